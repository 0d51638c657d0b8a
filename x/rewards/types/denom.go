package types

import "github.com/repshard/repshard/internal/chaincfg"

// Denom is the one denom x/rewards accounts in: fees, earnings, the pool and
// slashed bonds are all in the bond denom.
const Denom = chaincfg.BondDenom

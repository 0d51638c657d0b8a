// Package chaincfg holds the names every part of repshard agrees on: the
// bech32 prefix, the staking and fee denom and the default chain id.
package chaincfg

const (
	// Bech32Prefix is the human-readable part of account addresses (rep1…).
	Bech32Prefix = "rep"
	// BondDenom is the base denom used for staking, fees, bonds and rewards.
	BondDenom = "urep"
	// DisplayDenom is the display denom: 1 REP = 10^6 urep.
	DisplayDenom = "REP"
	// DefaultChainID is the chain id of local and demo networks.
	DefaultChainID = "repshard-local-1"
)

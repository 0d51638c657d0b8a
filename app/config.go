package app

import (
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/repshard/repshard/internal/chaincfg"
)

// Name is the application name, also the default home folder (~/.repshard).
const Name = "repshard"

var (
	// Bech32PrefixValAddr is the prefix of validator operator addresses (repvaloper1…).
	Bech32PrefixValAddr = chaincfg.Bech32Prefix + sdk.PrefixValidator + sdk.PrefixOperator
	// Bech32PrefixConsAddr is the prefix of validator consensus addresses (repvalcons1…).
	Bech32PrefixConsAddr = chaincfg.Bech32Prefix + sdk.PrefixValidator + sdk.PrefixConsensus
)

// SetAddressPrefixes points the SDK's global address config at the rep
// prefixes. It is idempotent: the config is sealed after the first call.
func SetAddressPrefixes() {
	cfg := sdk.GetConfig()
	if cfg.GetBech32AccountAddrPrefix() == chaincfg.Bech32Prefix {
		return
	}
	cfg.SetBech32PrefixForAccount(chaincfg.Bech32Prefix, chaincfg.Bech32Prefix+sdk.PrefixPublic)
	cfg.SetBech32PrefixForValidator(Bech32PrefixValAddr, Bech32PrefixValAddr+sdk.PrefixPublic)
	cfg.SetBech32PrefixForConsensusNode(Bech32PrefixConsAddr, Bech32PrefixConsAddr+sdk.PrefixPublic)
	cfg.Seal()
}

func init() {
	SetAddressPrefixes()
	sdk.DefaultBondDenom = chaincfg.BondDenom
}

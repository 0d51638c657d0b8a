package types

import (
	"github.com/cosmos/cosmos-sdk/codec"
	"github.com/cosmos/cosmos-sdk/codec/legacy"
	codectypes "github.com/cosmos/cosmos-sdk/codec/types"
	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/msgservice"
)

// RegisterLegacyAminoCodec registers the module's messages for amino JSON
// signing (ledger devices).
func RegisterLegacyAminoCodec(cdc *codec.LegacyAmino) {
	legacy.RegisterAminoMsg(cdc, &MsgUpdateParams{}, "repshard/x/rewards/MsgUpdateParams")
	legacy.RegisterAminoMsg(cdc, &MsgClaimRewards{}, "repshard/x/rewards/MsgClaimRewards")
	legacy.RegisterAminoMsg(cdc, &MsgFundPool{}, "repshard/x/rewards/MsgFundPool")
	legacy.RegisterAminoMsg(cdc, &MsgRetryQuarantined{}, "repshard/x/rewards/MsgRetryQuarantined")
	legacy.RegisterAminoMsg(cdc, &MsgDropQuarantined{}, "repshard/x/rewards/MsgDropQuarantined")
	cdc.RegisterConcrete(&Params{}, "repshard/x/rewards/Params", nil)
}

// RegisterInterfaces registers the module's messages with the interface registry.
func RegisterInterfaces(registry codectypes.InterfaceRegistry) {
	registry.RegisterImplementations((*sdk.Msg)(nil), &MsgUpdateParams{}, &MsgClaimRewards{}, &MsgFundPool{}, &MsgRetryQuarantined{}, &MsgDropQuarantined{})
	msgservice.RegisterMsgServiceDesc(registry, &_Msg_serviceDesc)
}

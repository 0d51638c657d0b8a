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
	legacy.RegisterAminoMsg(cdc, &MsgUpdateParams{}, "repshard/x/reputation/MsgUpdateParams")
	legacy.RegisterAminoMsg(cdc, &MsgSubmitReview{}, "repshard/x/reputation/MsgSubmitReview")
	legacy.RegisterAminoMsg(cdc, &MsgRateWorker{}, "repshard/x/reputation/MsgRateWorker")
	// Amino names are at most 39 characters: "repshard/x/reputation/" leaves 17,
	// too few for these two, so they drop the "x/".
	legacy.RegisterAminoMsg(cdc, &MsgRetryQuarantined{}, "repshard/reputation/MsgRetryQuarantined")
	legacy.RegisterAminoMsg(cdc, &MsgDropQuarantined{}, "repshard/reputation/MsgDropQuarantined")
	cdc.RegisterConcrete(&Params{}, "repshard/x/reputation/Params", nil)
}

// RegisterInterfaces registers the module's messages with the interface registry.
func RegisterInterfaces(registry codectypes.InterfaceRegistry) {
	registry.RegisterImplementations((*sdk.Msg)(nil), &MsgUpdateParams{}, &MsgSubmitReview{}, &MsgRateWorker{}, &MsgRetryQuarantined{}, &MsgDropQuarantined{})
	msgservice.RegisterMsgServiceDesc(registry, &_Msg_serviceDesc)
}

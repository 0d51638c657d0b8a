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
	legacy.RegisterAminoMsg(cdc, &MsgUpdateParams{}, "repshard/x/deferral/MsgUpdateParams")
	legacy.RegisterAminoMsg(cdc, &MsgSubmitRequest{}, "repshard/x/deferral/MsgSubmitRequest")
	legacy.RegisterAminoMsg(cdc, &MsgSubmitRequests{}, "repshard/x/deferral/MsgSubmitRequests")
	legacy.RegisterAminoMsg(cdc, &MsgCompleteRequest{}, "repshard/x/deferral/MsgCompleteRequest")
	legacy.RegisterAminoMsg(cdc, &MsgFailRequest{}, "repshard/x/deferral/MsgFailRequest")
	legacy.RegisterAminoMsg(cdc, &MsgCancelRequest{}, "repshard/x/deferral/MsgCancelRequest")
	legacy.RegisterAminoMsg(cdc, &MsgSetResultDelegate{}, "repshard/deferral/MsgSetResultDelegate")
	legacy.RegisterAminoMsg(cdc, &MsgRetryQuarantined{}, "repshard/x/deferral/MsgRetryQuarantined")
	legacy.RegisterAminoMsg(cdc, &MsgDropQuarantined{}, "repshard/x/deferral/MsgDropQuarantined")
	cdc.RegisterConcrete(&Params{}, "repshard/x/deferral/Params", nil)
}

// RegisterInterfaces registers the module's messages with the interface registry.
func RegisterInterfaces(registry codectypes.InterfaceRegistry) {
	registry.RegisterImplementations((*sdk.Msg)(nil),
		&MsgUpdateParams{}, &MsgSubmitRequest{}, &MsgSubmitRequests{}, &MsgCompleteRequest{}, &MsgFailRequest{}, &MsgCancelRequest{}, &MsgRetryQuarantined{}, &MsgDropQuarantined{},
		&MsgSetResultDelegate{})
	msgservice.RegisterMsgServiceDesc(registry, &_Msg_serviceDesc)
}

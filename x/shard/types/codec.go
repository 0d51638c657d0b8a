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
	legacy.RegisterAminoMsg(cdc, &MsgUpdateParams{}, "repshard/x/shard/MsgUpdateParams")
	legacy.RegisterAminoMsg(cdc, &MsgRegisterWorker{}, "repshard/x/shard/MsgRegisterWorker")
	legacy.RegisterAminoMsg(cdc, &MsgUpdateWorker{}, "repshard/x/shard/MsgUpdateWorker")
	legacy.RegisterAminoMsg(cdc, &MsgUnregisterWorker{}, "repshard/x/shard/MsgUnregisterWorker")
	legacy.RegisterAminoMsg(cdc, &MsgResumeWorker{}, "repshard/x/shard/MsgResumeWorker")
	legacy.RegisterAminoMsg(cdc, &MsgRetryQuarantined{}, "repshard/x/shard/MsgRetryQuarantined")
	legacy.RegisterAminoMsg(cdc, &MsgDropQuarantined{}, "repshard/x/shard/MsgDropQuarantined")
	cdc.RegisterConcrete(&Params{}, "repshard/x/shard/Params", nil)
}

// RegisterInterfaces registers the module's messages with the interface registry.
func RegisterInterfaces(registry codectypes.InterfaceRegistry) {
	registry.RegisterImplementations((*sdk.Msg)(nil),
		&MsgUpdateParams{}, &MsgRegisterWorker{}, &MsgUpdateWorker{}, &MsgUnregisterWorker{}, &MsgResumeWorker{},
		&MsgRetryQuarantined{}, &MsgDropQuarantined{})
	msgservice.RegisterMsgServiceDesc(registry, &_Msg_serviceDesc)
}

package deferral

import (
	autocliv1 "cosmossdk.io/api/cosmos/autocli/v1"

	"github.com/repshard/repshard/x/deferral/types"
)

// AutoCLIOptions describes the module's CLI: `repshardd query deferral …`
// and `repshardd tx deferral …`.
func (AppModule) AutoCLIOptions() *autocliv1.ModuleOptions {
	return &autocliv1.ModuleOptions{
		Query: &autocliv1.ServiceCommandDescriptor{
			Service: types.Query_serviceDesc.ServiceName,
			RpcCommandOptions: []*autocliv1.RpcCommandOptions{
				{RpcMethod: "Params", Use: "params", Short: "Show the x/deferral parameters (deferral thresholds, priority weights, per-block caps, fees)"},
			},
		},
		Tx: &autocliv1.ServiceCommandDescriptor{
			Service: types.Msg_serviceDesc.ServiceName,
			RpcCommandOptions: []*autocliv1.RpcCommandOptions{
				{
					RpcMethod:      "UpdateParams",
					Use:            "update-params-proposal [params-json]",
					Short:          "Submit a governance proposal that replaces the x/deferral parameters",
					Example:        `repshardd tx deferral update-params-proposal '{"default_score_ppm":500000,...}' --deposit 10000000urep --from alice`,
					GovProposal:    true,
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "params"}},
				},
			},
		},
	}
}

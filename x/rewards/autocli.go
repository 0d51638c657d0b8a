package rewards

import (
	autocliv1 "cosmossdk.io/api/cosmos/autocli/v1"

	"github.com/repshard/repshard/x/rewards/types"
)

// AutoCLIOptions describes the module's CLI: `repshardd query rewards …`
// and `repshardd tx rewards …`.
func (AppModule) AutoCLIOptions() *autocliv1.ModuleOptions {
	return &autocliv1.ModuleOptions{
		Query: &autocliv1.ServiceCommandDescriptor{
			Service: types.Query_serviceDesc.ServiceName,
			RpcCommandOptions: []*autocliv1.RpcCommandOptions{
				{RpcMethod: "Params", Use: "params", Short: "Show the x/rewards parameters (protocol share, epochs, emission, slashing)"},
				{
					RpcMethod: "PendingRewards",
					Use:       "pending-rewards [address]",
					Short:     "Show what a worker can claim now: fee earnings, epoch rewards, and the total slashed from its bond",
					Long: "Show what `repshardd tx rewards claim-rewards` would pay the worker now (total = fees + epoch_rewards), " +
						"and, for information, the total ever slashed from its bond. Amounts are in urep (1 REP = 1,000,000 urep).",
					Example:        "repshardd q rewards pending-rewards rep1... -o json",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "address"}},
				},
				{RpcMethod: "Pool", Use: "pool", Short: "Show the undistributed reward pool (slashed bonds and funding)"},
				{
					RpcMethod:      "Contribution",
					Use:            "contribution [address]",
					Short:          "Show a worker's contribution: processed compute units and data bytes, and the points they earned",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "address"}},
				},
			},
		},
		Tx: &autocliv1.ServiceCommandDescriptor{
			Service:              types.Msg_serviceDesc.ServiceName,
			EnhanceCustomCommand: true,
			RpcCommandOptions: []*autocliv1.RpcCommandOptions{
				{
					RpcMethod: "ClaimRewards",
					Use:       "claim-rewards",
					Short:     "Pay the --from worker everything it is owed (fee earnings of completed and failed requests)",
					Long: "Pay the --from worker everything it is owed. A worker owed nothing gets an error " +
						"(nothing to claim) and pays only the gas. See `repshardd q rewards pending-rewards [address]` first.",
					Example: "repshardd tx rewards claim-rewards --from worker1",
				},
				{RpcMethod: "UpdateParams", Skip: true}, // client/cli: update-params-proposal (merges onto the current params)
			},
		},
	}
}

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
				{
					RpcMethod: "Pool", Use: "pool",
					Short: "Show the undistributed reward pool and its book (funded = claimed + owed + unsettled + pool + dust)",
				},
				{
					RpcMethod: "Epoch", Use: "epoch",
					Short: "Show the open reward epoch (number, start and end height, points so far) and the last closed one",
					Long: "Show the open reward epoch and a closed one: the last closed epoch with contributions, or the one " +
						"given with --number (its points, the scheduled emission, what it emitted — at most its points — and " +
						"the reward per point, fixed point with 18 decimals, at most 1e18).",
					Example: "repshardd q rewards epoch -o json\nrepshardd q rewards epoch --number 3",
				},
				{
					RpcMethod:      "Contribution",
					Use:            "contribution [address]",
					Short:          "Show a worker's contribution: processed compute units and data bytes, the points earned (the protocol share of its fees, in urep), and its points, attempts and failures in its last epoch",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "address"}},
				},
				{
					RpcMethod: "Quarantine", Use: "quarantine [step]",
					Short:          "List the EndBlock items in quarantine (failed max_item_failures blocks in a row), by step and item; a step lists only its items",
					Example:        "repshardd q rewards quarantine\nrepshardd q rewards quarantine close_epoch",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "step", Optional: true}},
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
					Short:     "Pay the --from worker everything it is owed: fee earnings and epoch rewards",
					Long: "Pay the --from worker everything it is owed. A worker owed nothing gets an error " +
						"(nothing to claim) and pays only the gas. See `repshardd q rewards pending-rewards [address]` first.",
					Example: "repshardd tx rewards claim-rewards --from worker1",
				},
				{
					RpcMethod: "FundPool",
					Use:       "fund-pool [amount]",
					Short:     "Add coins of the --from account to the reward pool (urep only)",
					Long: "Move [amount] from the --from account into the reward pool, which each epoch emits to workers " +
						"in proportion to their contribution points (the protocol share of the fees they earned), at most " +
						"one urep per point; the rest stays in the pool. Governance funds it from the community pool with a " +
						"proposal carrying distribution's MsgCommunityPoolSpend (recipient: the gov account) and this " +
						"message with the gov account as funder (docs/rewards.md).",
					Example:        "repshardd tx rewards fund-pool 5000000urep --from alice",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "amount"}},
				},
				{RpcMethod: "UpdateParams", Skip: true}, // client/cli: update-params-proposal (merges onto the current params)
				{
					RpcMethod: "RetryQuarantined", Use: "retry-quarantined [step] [item]", GovProposal: true,
					Short:          "Propose to put a quarantined EndBlock item back into its step (its failure count starts again from zero); only governance may",
					Example:        "repshardd tx rewards retry-quarantined close_epoch epoch/7 --from alice --deposit 10000000urep --title ... --summary ...",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "step"}, {ProtoField: "item"}},
				},
				{
					RpcMethod: "DropQuarantined", Use: "drop-quarantined [step] [item]", GovProposal: true,
					Short:          "Propose to remove a quarantined EndBlock item for good, releasing what it holds (x/rewards/README.md, Quarantine); only governance may",
					Example:        "repshardd tx rewards drop-quarantined close_epoch epoch/7 --from alice --deposit 10000000urep --title ... --summary ...",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "step"}, {ProtoField: "item"}},
				},
			},
		},
	}
}

package shard

import (
	autocliv1 "cosmossdk.io/api/cosmos/autocli/v1"

	"github.com/repshard/repshard/x/shard/types"
)

// AutoCLIOptions describes the module's CLI: `repshardd query shard …`
// and `repshardd tx shard …`. register-worker is hand-written
// (client/cli): its first argument is a comma list of classes, which AutoCLI
// cannot parse in a non-final position. EnhanceCustomCommand adds the
// generated tx commands next to it.
func (AppModule) AutoCLIOptions() *autocliv1.ModuleOptions {
	return &autocliv1.ModuleOptions{
		Query: &autocliv1.ServiceCommandDescriptor{
			Service: types.Query_serviceDesc.ServiceName,
			RpcCommandOptions: []*autocliv1.RpcCommandOptions{
				{RpcMethod: "Params", Use: "params", Short: "Show the x/shard parameters (worker bond, routing and split/merge thresholds)"},
				{
					RpcMethod: "Shard", Use: "shard [shard-id]",
					Short:          "Show one shard: class, status, workers, capacity, in-flight and queued units, load",
					Example:        "repshardd q shard shard 1 -o json",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "shard_id"}},
				},
				{
					RpcMethod: "Shards", Use: "shards",
					Short:   "List all shards (ACTIVE, DRAINING and RETIRED) in id order",
					Example: "repshardd q shard shards -o json",
				},
				{
					RpcMethod: "ShardsByClass", Use: "shards-by-class [class]",
					Short:          "List the ACTIVE shards of a class (SHARD_CLASS_HIGH_PRIORITY, SHARD_CLASS_LOW_PRIORITY, SHARD_CLASS_DATA_INTENSIVE, SHARD_CLASS_COMPUTE_INTENSIVE)",
					Example:        "repshardd q shard shards-by-class high-priority",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "class"}},
				},
				{
					RpcMethod: "Worker", Use: "worker [address]",
					Short:          "Show a worker: shard, bond, capacity, in-flight units, outcome counts, status",
					Example:        "repshardd q shard worker rep1... -o json",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "address"}},
				},
				{
					RpcMethod: "WorkersByShard", Use: "workers [shard-id]",
					Short:          "List the workers attached to a shard, in address order",
					Example:        "repshardd q shard workers 1",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "shard_id"}},
				},
				{
					RpcMethod: "NetworkLoad", Use: "network-load",
					Short: "Show the capacity and load summed over ACTIVE shards, and the network load in ppm",
				},
				{
					RpcMethod: "Topology", Use: "topology",
					Short:   "List every shard with its children, status, load and load EMA, capacity, queue length and migration",
					Example: "repshardd q shard topology -o json",
				},
				{
					RpcMethod: "TopologyChanges", Use: "topology-changes",
					Short:   "List the recent splits, merges, retirements and finished migrations, newest first",
					Example: "repshardd q shard topology-changes -o json",
				},
				{
					RpcMethod: "Quarantine", Use: "quarantine [step]",
					Short:          "List the EndBlock items in quarantine (failed max_item_failures blocks in a row), by step and item; a step lists only its items",
					Example:        "repshardd q shard quarantine\nrepshardd q shard quarantine release_bond",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "step", Optional: true}},
				},
			},
		},
		Tx: &autocliv1.ServiceCommandDescriptor{
			Service:              types.Msg_serviceDesc.ServiceName,
			EnhanceCustomCommand: true,
			RpcCommandOptions: []*autocliv1.RpcCommandOptions{
				{RpcMethod: "RegisterWorker", Skip: true}, // hand-written: client/cli
				{
					RpcMethod: "UpdateWorker", Use: "update-worker [capacity-units] [storage-bytes]",
					Short: "Change the capacity and storage your worker (--from) offers",
					Long: "Change the capacity units (concurrent compute, > 0) and storage bytes the --from worker offers. " +
						"The capacity may not drop below the units currently in flight. --endpoint URL replaces the worker's " +
						"public data-plane URL, --clear-endpoint removes it; without either it stays as it is.",
					Example:        "repshardd tx shard update-worker 200 2147483648 --endpoint https://worker1.example.org:8443 --from worker1",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "capacity_units"}, {ProtoField: "storage_bytes"}},
				},
				{
					RpcMethod: "UnregisterWorker", Use: "unregister-worker",
					Short: "Stop taking new work and start unbonding your worker (--from)",
					Long: "The --from worker takes no new assignments from now on. Its bond is returned " +
						"unbonding_period_blocks after its last in-flight assignment finishes.",
					Example: "repshardd tx shard unregister-worker --from worker1",
				},
				{
					RpcMethod: "ResumeWorker", Use: "resume-worker",
					Short: "Take new work again after your worker was marked unresponsive (--from)",
					Long: "A worker that lets x/reputation's max_consecutive_expiries assignments in a row expire is " +
						"marked unresponsive and gets no new assignments. Once the worker daemon runs again, the --from " +
						"worker sends this to be assigned work again (unless its score keeps it paused). The worker " +
						"daemon sends it itself when it starts and finds its worker marked unresponsive.",
					Example: "repshardd tx shard resume-worker --from worker1",
				},
				{RpcMethod: "UpdateParams", Skip: true}, // client/cli: update-params-proposal (merges onto the current params)
				{
					RpcMethod: "RetryQuarantined", Use: "retry-quarantined [step] [item]", GovProposal: true,
					Short:          "Propose to put a quarantined EndBlock item back into its step (its failure count starts again from zero); only governance may",
					Example:        "repshardd tx shard retry-quarantined release_bond worker/rep1... --from alice --deposit 10000000urep --title ... --summary ...",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "step"}, {ProtoField: "item"}},
				},
				{
					RpcMethod: "DropQuarantined", Use: "drop-quarantined [step] [item]", GovProposal: true,
					Short:          "Propose to remove a quarantined EndBlock item for good, releasing what it holds (x/shard/README.md, Quarantine); only governance may",
					Example:        "repshardd tx shard drop-quarantined release_bond worker/rep1... --from alice --deposit 10000000urep --title ... --summary ...",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "step"}, {ProtoField: "item"}},
				},
			},
		},
	}
}

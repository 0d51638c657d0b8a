package deferral

import (
	autocliv1 "cosmossdk.io/api/cosmos/autocli/v1"

	"github.com/repshard/repshard/x/deferral/types"
)

// AutoCLIOptions describes the module's CLI: `repshardd query deferral …`
// and `repshardd tx deferral …`. submit-request is a hand-written command
// (client/cli) because of its payload flags.
func (AppModule) AutoCLIOptions() *autocliv1.ModuleOptions {
	return &autocliv1.ModuleOptions{
		Query: &autocliv1.ServiceCommandDescriptor{
			Service: types.Query_serviceDesc.ServiceName,
			RpcCommandOptions: []*autocliv1.RpcCommandOptions{
				{RpcMethod: "Params", Use: "params", Short: "Show the x/deferral parameters (deferral thresholds, priority weights, per-block caps, fees)"},
				{
					RpcMethod: "Quote", Use: "quote [class] [compute-units]",
					Short: "Show the fee a submission would escrow now, and its parts (shard price × units × urgency, data, replicas, discount)",
					Long: "Routes the request as a submission in this block would (the requester's reputation picks preferred routing and the discount) " +
						"and prices it at the routed shard's congestion price. --data-bytes is the declared size of a payload held elsewhere " +
						"(inline payloads are not data-priced). Set --max-fee of submit-request at or above the fee.",
					Example:        "repshardd q deferral quote high-priority 3 --urgency high --data-bytes 5000000 --replicas 3 --requester rep1...",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "class"}, {ProtoField: "compute_units"}},
				},
				{
					RpcMethod: "Request", Use: "request [request-id]", Short: "Show one request: status, shard, deferral, worker, fee, heights",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "request_id"}},
				},
				{
					RpcMethod: "RequestsByRequester", Use: "requests-by-requester [address]", Short: "List a requester's requests, oldest first",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "requester"}},
				},
				{
					RpcMethod: "RequestsByWorker", Use: "requests-by-worker [address]", Short: "List a worker's assignments (current and finished), oldest first",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "worker"}},
				},
				{
					RpcMethod: "RequestsByShard", Use: "requests-by-shard [shard-id]", Short: "List the requests routed to a shard, oldest first",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "shard_id"}},
				},
				{
					RpcMethod: "RequestsByStatus", Use: "requests-by-status [status]",
					Short:          "List the requests with a status (queued, assigned, completed, failed, expired, cancelled, no-quorum, dropped): queued in serving order, assigned by deadline, finished by finish height",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "status"}},
				},
				{
					RpcMethod: "ShardQueue", Use: "shard-queue [shard-id]", Short: "Show a shard's queue in serving order (due height, then request id)",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "shard_id"}},
				},
				{
					RpcMethod: "Quarantine", Use: "quarantine [step]",
					Short:          "List the EndBlock items in quarantine (failed max_item_failures blocks in a row), by step and item; a step lists only its items",
					Example:        "repshardd q deferral quarantine\nrepshardd q deferral quarantine drain_queues",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "step", Optional: true}},
				},
				{
					RpcMethod: "ResultDelegate", Use: "result-delegate [requester]",
					Short:          "Show the account a requester allows to fetch its results from the workers (NotFound: none)",
					Example:        "repshardd q deferral result-delegate rep1...",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "requester"}},
				},
			},
		},
		Tx: &autocliv1.ServiceCommandDescriptor{
			Service:              types.Msg_serviceDesc.ServiceName,
			EnhanceCustomCommand: true,
			RpcCommandOptions: []*autocliv1.RpcCommandOptions{
				{RpcMethod: "SubmitRequest", Skip: true},  // client/cli: submit-request
				{RpcMethod: "SubmitRequests", Skip: true}, // client/cli: submit-requests (a JSON-lines file)
				{
					RpcMethod: "CompleteRequest", Use: "complete-request [request-id] [result-hash]",
					Short:          "Report the result of a request assigned to you (--from is the worker); result-hash is the hex sha256 of the result",
					Example:        "repshardd tx deferral complete-request 42 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 --from worker1",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "request_id"}, {ProtoField: "result_hash"}},
				},
				{
					RpcMethod: "FailRequest", Use: "fail-request [request-id] [reason]",
					Short:          "Report that a request assigned to you failed (--from is the worker)",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "request_id"}, {ProtoField: "reason"}},
				},
				{
					RpcMethod: "CancelRequest", Use: "cancel-request [request-id]",
					Short: "Cancel your queued or assigned request (--from is the requester): queued, the whole fee comes back; assigned, each worker holding it keeps cancel_worker_share_ppm of its fee share and the rest comes back",
					Long: `Cancel a request of yours that is QUEUED or ASSIGNED.

A queued request: the whole fee is refunded and nobody is paid.

An assigned request: each worker holding it (its worker, or the worker of each
running replica) is paid a cancellation share, ⌊its fee share ×
cancel_worker_share_ppm / 10^6⌋ (the whole fee of a one-worker request, one
replica share of a replicated one); the rest is refunded. The workers' capacity
is freed and nothing counts against you or them; a result they report
afterwards is refused. The response and EventRequestCancelled give the refund
and what the workers were paid.

Refused: someone else's request; a finished one; a replicated request once one
of its replicas has reported (including one waiting for tie-break replicas);
an assignment past its deadline, which EndBlock is taking back. If a report and
your cancel land in one block, the first of the two wins and the other fails.`,
					Example:        "repshardd tx deferral cancel-request 42 --from alice",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "request_id"}},
				},
				{
					RpcMethod: "SetResultDelegate", Use: "set-result-delegate [delegate]",
					Short: "Allow another account to fetch your results (--from is the requester) from the workers' endpoints; \"\" removes it",
					Long: `Name the one account, besides you, that the worker daemons serve your results
to (docs/dataplane.md) — for a requester that cannot sign a challenge itself,
such as a contract, or a service that collects results for you. It replaces
any delegate you had; an empty delegate ("") removes it. It gives no other
right: the delegate cannot cancel, submit or be paid for your requests.`,
					Example:        "repshardd tx deferral set-result-delegate rep1... --from alice\nrepshardd tx deferral set-result-delegate \"\" --from alice",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "delegate"}},
				},
				{RpcMethod: "UpdateParams", Skip: true}, // client/cli: update-params-proposal (merges onto the current params)
				{
					RpcMethod: "RetryQuarantined", Use: "retry-quarantined [step] [item]", GovProposal: true,
					Short:          "Propose to put a quarantined EndBlock item back into its step (its failure count starts again from zero); only governance may",
					Example:        "repshardd tx deferral retry-quarantined drain_queues request/42 --from alice --deposit 10000000urep --title ... --summary ...",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "step"}, {ProtoField: "item"}},
				},
				{
					RpcMethod: "DropQuarantined", Use: "drop-quarantined [step] [item]", GovProposal: true,
					Short:          "Propose to remove a quarantined EndBlock item for good, releasing what it holds (x/deferral/README.md, Quarantine); only governance may",
					Example:        "repshardd tx deferral drop-quarantined drain_queues request/42 --from alice --deposit 10000000urep --title ... --summary ...",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "step"}, {ProtoField: "item"}},
				},
			},
		},
	}
}

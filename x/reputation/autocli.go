package reputation

import (
	autocliv1 "cosmossdk.io/api/cosmos/autocli/v1"

	"github.com/repshard/repshard/x/reputation/types"
)

// AutoCLIOptions describes the module's CLI: `repshardd query reputation …`
// and `repshardd tx reputation …`.
func (AppModule) AutoCLIOptions() *autocliv1.ModuleOptions {
	return &autocliv1.ModuleOptions{
		Query: &autocliv1.ServiceCommandDescriptor{
			Service: types.Query_serviceDesc.ServiceName,
			RpcCommandOptions: []*autocliv1.RpcCommandOptions{
				{RpcMethod: "Params", Use: "params", Short: "Show the x/reputation parameters (factor weights, priors, thresholds)"},
				{
					RpcMethod: "Profile",
					Use:       "profile [address]",
					Short:     "Show a requester's reputation: score, the four factors behind it and the raw counters",
					Long: "Show a requester's reputation profile as of the latest block. Every score and factor is in ppm " +
						"(1,000,000 = 1.0): score is the weighted average of completion_ppm, frequency_ppm, validation_ppm " +
						"and peer_ppm with the governance weights. A requester that never submitted a request has no " +
						"profile (not found) and the default score of the params.",
					Example:        "repshardd q reputation profile rep1... -o json",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "address"}},
				},
				{RpcMethod: "Profiles", Use: "profiles", Short: "List all reputation profiles in address order (paginated: --limit, --page-key)"},
				{
					RpcMethod: "TopProfiles", Use: "top-profiles",
					Short: "List profiles from the highest score down (paginated: --limit, --page-key)",
					Long: "List profiles from the highest indexed score down, through an ordered index that reads only the page. " +
						"indexed_score is the score at the profile's last write (the order); score is its value now. They differ " +
						"only when params changed or time passed since that write (see docs/reputation.md).",
				},
				{
					RpcMethod: "Review", Use: "review [request-id]", Short: "Show the peer review of a request",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "request_id"}},
				},
				{
					RpcMethod: "WorkerProfile",
					Use:       "worker-profile [address]",
					Short:     "Show a worker's standing: score, reliability and rating factors, counters, pause",
					Long: "Show a worker's profile as of the latest block. score (ppm) is the weighted sum of reliability_ppm " +
						"(how its assignments ended) and rating_ppm (requesters' ratings); x/shard assigns work to higher " +
						"score tiers (score / 100,000) first and none to a paused worker. A worker without history gets the " +
						"neutral profile and found=false.",
					Example:        "repshardd q reputation worker-profile rep1... -o json",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "address"}},
				},
				{
					RpcMethod: "TopWorkers", Use: "top-workers",
					Short: "List worker profiles from the highest score down (paginated: --limit, --page-key)",
					Long: "List worker profiles from the highest indexed score down, through an ordered index that reads only " +
						"the page. indexed_score is the score at the profile's last write (what x/shard was told); score is its " +
						"value with the current params.",
				},
				{
					RpcMethod: "WorkerRating", Use: "worker-rating [request-id]", Short: "Show the requester's rating of the worker of a request",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "request_id"}},
				},
				{
					RpcMethod: "Quarantine", Use: "quarantine [step]",
					Short:          "List the EndBlock items in quarantine (failed max_item_failures blocks in a row), by step and item; a step lists only its items",
					Example:        "repshardd q reputation quarantine\nrepshardd q reputation quarantine resume_worker",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "step", Optional: true}},
				},
			},
		},
		Tx: &autocliv1.ServiceCommandDescriptor{
			Service:              types.Msg_serviceDesc.ServiceName,
			EnhanceCustomCommand: true,
			RpcCommandOptions: []*autocliv1.RpcCommandOptions{
				{RpcMethod: "UpdateParams", Skip: true}, // client/cli: update-params-proposal (merges onto the current params)
				{
					RpcMethod: "RetryQuarantined", Use: "retry-quarantined [step] [item]", GovProposal: true,
					Short:          "Propose to put a quarantined EndBlock item back into its step (its failure count starts again from zero); only governance may",
					Example:        "repshardd tx reputation retry-quarantined resume_worker worker/rep1... --from alice --deposit 10000000urep --title ... --summary ...",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "step"}, {ProtoField: "item"}},
				},
				{
					RpcMethod: "DropQuarantined", Use: "drop-quarantined [step] [item]", GovProposal: true,
					Short:          "Propose to remove a quarantined EndBlock item for good, releasing what it holds (x/reputation/README.md, Quarantine); only governance may",
					Example:        "repshardd tx reputation drop-quarantined resume_worker worker/rep1... --from alice --deposit 10000000urep --title ... --summary ...",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "step"}, {ProtoField: "item"}},
				},
				{
					RpcMethod: "SubmitReview", Use: "submit-review [request-id] [rating]",
					Short: "Rate the requester of a request you processed, 1 (worst) to 5 (best) (--from is the worker)",
					Long: "Rate the requester of a finished (completed or failed) request you processed as its worker. " +
						"Once per request; the review weighs by your worker bond and your own reputation score.",
					Example:        "repshardd tx reputation submit-review 42 5 --from worker1",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "request_id"}, {ProtoField: "rating"}},
				},
				{
					RpcMethod: "RateWorker", Use: "rate-worker [request-id] [rating]",
					Short: "Rate the worker that completed your request, 1 (worst) to 5 (best) (--from is the requester)",
					Long: "Rate the worker that completed one of your requests. Once per request; the rating weighs by your " +
						"own reputation score. A worker whose score falls below min_worker_score_ppm is paused (no new " +
						"assignments) until it recovers.",
					Example:        "repshardd tx reputation rate-worker 42 5 --from requester1",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "request_id"}, {ProtoField: "rating"}},
				},
			},
		},
	}
}

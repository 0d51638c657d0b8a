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
			},
		},
		Tx: &autocliv1.ServiceCommandDescriptor{
			Service:              types.Msg_serviceDesc.ServiceName,
			EnhanceCustomCommand: true,
			RpcCommandOptions: []*autocliv1.RpcCommandOptions{
				{RpcMethod: "UpdateParams", Skip: true}, // client/cli: update-params-proposal (merges onto the current params)
				{
					RpcMethod: "SubmitReview", Use: "submit-review [request-id] [rating]",
					Short: "Rate the requester of a request you processed, 1 (worst) to 5 (best) (--from is the worker)",
					Long: "Rate the requester of a finished (completed or failed) request you processed as its worker. " +
						"Once per request; the review weighs by your worker bond and your own reputation score.",
					Example:        "repshardd tx reputation submit-review 42 5 --from worker1",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "request_id"}, {ProtoField: "rating"}},
				},
			},
		},
	}
}

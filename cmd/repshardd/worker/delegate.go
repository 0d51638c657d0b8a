package worker

import (
	"context"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	deferraltypes "github.com/repshard/repshard/x/deferral/types"
)

// DelegateLookup tells which account, besides the requester itself, may
// fetch a requester's results from the result server: its result delegate,
// set on chain by the requester (x/deferral Query/ResultDelegate).
type DelegateLookup interface {
	// ResultDelegate returns the requester's result delegate (a bech32
	// account address), or "" when it has none. An error means the answer
	// is unknown (the node unreachable): the server refuses with 503.
	ResultDelegate(ctx context.Context, requester string) (string, error)
}

// NoDelegates is the lookup of a server without a chain to ask: only
// requesters fetch their results.
type NoDelegates struct{}

// ResultDelegate returns "".
func (NoDelegates) ResultDelegate(context.Context, string) (string, error) { return "", nil }

// ResultDelegateQuerier is the one chain call the delegate lookup needs:
// x/deferral's Query/ResultDelegate for a requester, its delegate as
// answered ("" for none). GRPCResultDelegateQuerier implements it over any
// gRPC connection.
type ResultDelegateQuerier interface {
	QueryResultDelegate(ctx context.Context, requester string) (string, error)
}

// ChainDelegates is the DelegateLookup of a daemon connected to a node: it
// asks the chain on every fetch by an account that is not the requester
// (fetches are few and rate-capped; no cache, so a changed delegate counts
// at once). A node that does not know the query yet (an older release:
// gRPC Unimplemented, or "unknown query path" through CometBFT's ABCI
// query) and a requester without a delegate (NotFound) both mean no
// delegate.
type ChainDelegates struct {
	Querier ResultDelegateQuerier
}

// ResultDelegate asks the chain.
func (c ChainDelegates) ResultDelegate(ctx context.Context, requester string) (string, error) {
	if c.Querier == nil {
		return "", nil
	}
	delegate, err := c.Querier.QueryResultDelegate(ctx, requester)
	if err == nil {
		return delegate, nil
	}
	if noDelegateAnswer(err) {
		return "", nil
	}
	return "", err
}

// noDelegateAnswer tells the errors that mean "no delegate" from those that
// mean "no answer".
func noDelegateAnswer(err error) bool {
	st, ok := status.FromError(err)
	if !ok {
		return false
	}
	switch st.Code() {
	case codes.Unimplemented, codes.NotFound:
		return true
	case codes.Unknown: // the ABCI query path of client.Context maps an unknown route here
		return strings.Contains(st.Message(), "unknown query path")
	}
	return false
}

// ResultDelegateMethod is the full gRPC method name of the query.
const ResultDelegateMethod = "/repshard.deferral.v1.Query/ResultDelegate"

// GRPCResultDelegateQuerier calls x/deferral's Query/ResultDelegate over
// Conn (a *grpc.ClientConn, or a client.Context, which routes it through
// gRPC or CometBFT's ABCI query).
type GRPCResultDelegateQuerier struct {
	Conn grpc.ClientConnInterface
}

// QueryResultDelegate calls the query.
func (q GRPCResultDelegateQuerier) QueryResultDelegate(ctx context.Context, requester string) (string, error) {
	res, err := deferraltypes.NewQueryClient(q.Conn).ResultDelegate(ctx, &deferraltypes.QueryResultDelegateRequest{Requester: requester})
	if err != nil {
		return "", err
	}
	return res.Delegate, nil
}

package worker

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
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
// gRPC connection; once x/deferral's generated QueryClient has the method,
// an adapter over it implements it just as well.
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

// GRPCResultDelegateQuerier calls Query/ResultDelegate over Conn (a
// *grpc.ClientConn, or a client.Context, which routes it through gRPC or
// CometBFT's ABCI query). Its request and response are encoded here, not
// generated, because the proto is added to x/deferral on another branch; it
// assumes QueryResultDelegateRequest{string requester = 1} and
// QueryResultDelegateResponse{string delegate = 1}. When merging, either
// keep it (if the fields match) or replace it by an adapter over the
// generated deferraltypes.QueryClient; nothing else changes.
type GRPCResultDelegateQuerier struct {
	Conn grpc.ClientConnInterface
}

// QueryResultDelegate calls the query.
func (q GRPCResultDelegateQuerier) QueryResultDelegate(ctx context.Context, requester string) (string, error) {
	req := &resultDelegateRequest{Requester: requester}
	var resp resultDelegateResponse
	if err := q.Conn.Invoke(ctx, ResultDelegateMethod, req, &resp); err != nil {
		return "", err
	}
	return resp.Delegate, nil
}

// resultDelegateRequest and resultDelegateResponse are hand-encoded
// protobuf messages of one string field each (field 1), with the methods
// the SDK's gRPC codec and gogoproto look for.
type resultDelegateRequest struct{ Requester string }

type resultDelegateResponse struct{ Delegate string }

func (m *resultDelegateRequest) Reset()         { *m = resultDelegateRequest{} }
func (m *resultDelegateRequest) String() string { return fmt.Sprintf("requester:%q", m.Requester) }
func (*resultDelegateRequest) ProtoMessage()    {}
func (m *resultDelegateRequest) Marshal() ([]byte, error) {
	return marshalStringField(m.Requester), nil
}
func (m *resultDelegateRequest) Unmarshal(b []byte) error {
	return unmarshalStringField(b, &m.Requester)
}
func (m *resultDelegateRequest) Size() int { return len(marshalStringField(m.Requester)) }

func (m *resultDelegateResponse) Reset()         { *m = resultDelegateResponse{} }
func (m *resultDelegateResponse) String() string { return fmt.Sprintf("delegate:%q", m.Delegate) }
func (*resultDelegateResponse) ProtoMessage()    {}
func (m *resultDelegateResponse) Marshal() ([]byte, error) {
	return marshalStringField(m.Delegate), nil
}
func (m *resultDelegateResponse) Unmarshal(b []byte) error {
	return unmarshalStringField(b, &m.Delegate)
}
func (m *resultDelegateResponse) Size() int { return len(marshalStringField(m.Delegate)) }

// Protobuf wire types (the encoding is small enough to write here rather
// than import google.golang.org/protobuf, an indirect dependency, for it).
const (
	wireVarint  = 0
	wireFixed64 = 1
	wireBytes   = 2
	wireFixed32 = 5
)

// marshalStringField encodes a message whose field 1 is s (proto3: an
// empty string is left out).
func marshalStringField(s string) []byte {
	if s == "" {
		return []byte{}
	}
	b := binary.AppendUvarint([]byte{1<<3 | wireBytes}, uint64(len(s)))
	return append(b, s...)
}

var errBadProto = errors.New("malformed protobuf message")

// unmarshalStringField decodes field 1 into s, skipping unknown fields.
func unmarshalStringField(b []byte, s *string) error {
	*s = ""
	for len(b) > 0 {
		tag, n := binary.Uvarint(b)
		if n <= 0 {
			return errBadProto
		}
		b = b[n:]
		switch tag & 7 {
		case wireVarint:
			if _, n = binary.Uvarint(b); n <= 0 {
				return errBadProto
			}
		case wireFixed64:
			n = 8
		case wireFixed32:
			n = 4
		case wireBytes:
			size, m := binary.Uvarint(b)
			if m <= 0 || size > uint64(len(b)-m) {
				return errBadProto
			}
			if tag>>3 == 1 {
				*s = string(b[m : m+int(size)])
			}
			n = m + int(size)
		default:
			return errBadProto
		}
		if n > len(b) {
			return errBadProto
		}
		b = b[n:]
	}
	return nil
}

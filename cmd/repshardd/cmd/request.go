package cmd

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/cosmos/gogoproto/proto"
	"github.com/spf13/cobra"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/cosmos/cosmos-sdk/client"
	"github.com/cosmos/cosmos-sdk/client/flags"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/repshard/repshard/cmd/repshardd/worker/resultapi"
	deferraltypes "github.com/repshard/repshard/x/deferral/types"
	shardtypes "github.com/repshard/repshard/x/shard/types"
)

const (
	flagOut            = "out"
	flagMaxResultBytes = "max-result-bytes"
)

// NewRequestCmd returns `repshardd request`: what a requester does with its
// requests off chain (fetch-result, seal-payload).
func NewRequestCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:                        "request",
		Short:                      "Work with your requests off chain: seal a payload to its worker, fetch a result from the worker that computed it",
		SuggestionsMinimumDistance: 2,
		RunE:                       client.ValidateCmd,
	}
	cmd.AddCommand(newFetchResultCmd(), newSealPayloadCmd())
	return cmd
}

func newFetchResultCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "fetch-result [request-id]",
		Short: "Download a completed request's result from its worker and verify it against the result hash on chain",
		Long: `Find the worker(s) of a completed request on chain, download the result from
each worker's data-plane endpoint (x/shard's worker endpoint) until one serves
bytes whose sha256 is the result hash on chain (the quorum hash of a
replicated request), and write them to --out (default: stdout).

The worker serves a result only to the request's requester or the requester's
result delegate (tx deferral set-result-delegate): --from signs a one-time
challenge from the worker with its key; no password, no session.

A request whose record was pruned (retention_blocks after it finished) is
found in the node's transaction index (its completion events). Every worker
that serves bytes not matching the hash, or cannot serve them, is reported by
address; the command fails when no worker served the right bytes.`,
		Example: `repshardd request fetch-result 42 --from alice --out result.bin`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			clientCtx, err := client.GetClientQueryContext(cmd)
			if err != nil {
				return err
			}
			id, err := strconv.ParseUint(args[0], 10, 64)
			if err != nil || id == 0 {
				return fmt.Errorf("request-id must be a positive integer, got %q", args[0])
			}
			from, _ := cmd.Flags().GetString(flags.FlagFrom)
			if from == "" {
				return errors.New("--from is required: the requester (or its result delegate) signs the worker's challenge")
			}
			maxBytes, err := cmd.Flags().GetInt64(flagMaxResultBytes)
			if err != nil || maxBytes <= 0 {
				return fmt.Errorf("--%s must be positive", flagMaxResultBytes)
			}
			if clientCtx.ChainID == "" {
				return errors.New("the chain id is not set: pass --chain-id (the worker's challenge is bound to it)")
			}
			sign, err := keyringSigner(clientCtx, from)
			if err != nil {
				return err
			}
			// From here on an error is about the request or a worker, not
			// the command line: no usage text under it.
			cmd.SilenceUsage = true
			ctx := cmd.Context()
			src, err := locateResult(ctx, clientCtx, id)
			if err != nil {
				return err
			}
			result, report, err := fetchVerified(ctx, clientCtx, src, sign, maxBytes)
			for _, line := range report {
				fmt.Fprintln(cmd.ErrOrStderr(), line)
			}
			if err != nil {
				return err
			}
			out, _ := cmd.Flags().GetString(flagOut)
			if out == "" {
				_, err = cmd.OutOrStdout().Write(result)
				return err
			}
			if err := os.WriteFile(out, result, 0o600); err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "request %d: %d bytes, sha256 %x, written to %s\n", id, len(result), src.hash, out)
			return nil
		},
	}
	flags.AddQueryFlagsToCmd(cmd)
	cmd.Flags().String(flags.FlagFrom, "", "name or address of the key that signs the worker's challenge: the requester or its result delegate")
	cmd.Flags().String(flags.FlagKeyringBackend, flags.DefaultKeyringBackend, "select keyring's backend (os|file|kwallet|pass|test)")
	cmd.Flags().String(flags.FlagChainID, "", "the chain id the challenge is bound to (default: client.toml's)")
	cmd.Flags().String(flagOut, "", "file to write the result to (default: stdout)")
	cmd.Flags().Int64(flagMaxResultBytes, 1<<30, "refuse a result larger than this many bytes")
	return cmd
}

// resultSource is where a completed request's result can be fetched: the
// hash it must have and the workers that reported it, the request's own
// worker first.
type resultSource struct {
	id      uint64
	hash    []byte
	workers []string
	// fromHistory is true when the record was pruned and the source was
	// read from the node's transaction index.
	fromHistory bool
}

// locateResult reads the request's record; when the chain has pruned it,
// the node's transaction index.
func locateResult(ctx context.Context, clientCtx client.Context, id uint64) (resultSource, error) {
	res, err := deferraltypes.NewQueryClient(clientCtx).Request(ctx, &deferraltypes.QueryRequestRequest{RequestId: id})
	if status.Code(err) == codes.NotFound {
		return locateInHistory(ctx, clientCtx, id)
	}
	if err != nil {
		return resultSource{}, err
	}
	return sourceOfRecord(res.Request)
}

// sourceOfRecord is the result source of a live record: COMPLETED only.
func sourceOfRecord(req deferraltypes.Request) (resultSource, error) {
	if req.Status != deferraltypes.StatusCompleted {
		return resultSource{}, fmt.Errorf("request %d is %s: only a COMPLETED request has a result", req.Id, req.Status)
	}
	src := resultSource{id: req.Id, hash: req.ResultHash}
	src.addWorker(req.Worker)
	for _, run := range req.ReplicaRuns {
		if bytes.Equal(run.ResultHash, req.ResultHash) {
			src.addWorker(run.Worker)
		}
	}
	return src, nil
}

func (s *resultSource) addWorker(w string) {
	if w == "" {
		return
	}
	for _, have := range s.workers {
		if have == w {
			return
		}
	}
	s.workers = append(s.workers, w)
}

// locateInHistory finds a pruned request's completion in the node's
// transaction index: the EventRequestCompleted of its completing tx (the
// agreed hash and the worker), and the EventReplicaReported of a replicated
// request's agreeing replicas.
func locateInHistory(ctx context.Context, clientCtx client.Context, id uint64) (resultSource, error) {
	node, err := clientCtx.GetNode()
	if err != nil {
		return resultSource{}, err
	}
	// Typed events carry JSON values: a uint64 is a quoted string.
	q := fmt.Sprintf(`%s.request_id='"%d"'`, proto.MessageName(&deferraltypes.EventRequestCompleted{}), id)
	found, err := node.TxSearch(ctx, q, false, nil, nil, "asc")
	if err != nil {
		return resultSource{}, fmt.Errorf("request %d is not on chain any more (pruned) and the node's transaction index cannot be searched: %w", id, err)
	}
	src := resultSource{id: id, fromHistory: true}
	var reports []*deferraltypes.EventReplicaReported
	for _, tx := range found.Txs {
		for _, ev := range tx.TxResult.Events {
			msg, err := sdk.ParseTypedEvent(abci.Event(ev))
			if err != nil {
				continue
			}
			switch e := msg.(type) {
			case *deferraltypes.EventRequestCompleted:
				if e.RequestId == id {
					src.hash = e.ResultHash
					src.addWorker(e.Worker)
				}
			case *deferraltypes.EventReplicaReported:
				if e.RequestId == id {
					reports = append(reports, e)
				}
			}
		}
	}
	if src.hash == nil {
		return resultSource{}, fmt.Errorf("request %d: no record on chain and no completion in the node's transaction index (it never completed, or this node does not index transactions)", id)
	}
	for _, r := range reports {
		if bytes.Equal(r.ResultHash, src.hash) {
			src.addWorker(r.Worker)
		}
	}
	return src, nil
}

// keyringSigner signs a worker's challenge with the --from key (a name, or
// an address of the keyring).
func keyringSigner(clientCtx client.Context, from string) (resultapi.Signer, error) {
	info, err := clientCtx.Keyring.Key(from)
	if err != nil {
		addr, aerr := sdk.AccAddressFromBech32(from)
		if aerr != nil {
			return nil, fmt.Errorf("--from %s: %w", from, err)
		}
		if info, err = clientCtx.Keyring.KeyByAddress(addr); err != nil {
			return nil, fmt.Errorf("--from %s: %w", from, err)
		}
	}
	return resultapi.KeyringSigner(clientCtx.Keyring, info.Name), nil
}

// fetchVerified tries each worker of src in turn and returns the first
// result whose sha256 is src.hash; report names what each worker did.
func fetchVerified(ctx context.Context, clientCtx client.Context, src resultSource, sign resultapi.Signer, maxBytes int64) ([]byte, []string, error) {
	var report []string
	shards := shardtypes.NewQueryClient(clientCtx)
	for _, w := range src.workers {
		res, err := shards.Worker(ctx, &shardtypes.QueryWorkerRequest{Address: w})
		if err != nil {
			report = append(report, fmt.Sprintf("worker %s: no worker record (%v): it may have left", w, err))
			continue
		}
		endpoint := res.Worker.Endpoint
		if endpoint == "" {
			report = append(report, fmt.Sprintf("worker %s publishes no endpoint", w))
			continue
		}
		body, err := resultapi.FetchResult(ctx, endpoint, clientCtx.ChainID, src.id, sign, maxBytes)
		if err != nil {
			report = append(report, fmt.Sprintf("worker %s (%s): %v", w, endpoint, err))
			continue
		}
		sum := sha256.Sum256(body)
		if !bytes.Equal(sum[:], src.hash) {
			report = append(report, fmt.Sprintf("worker %s (%s) served %d bytes with sha256 %x, not the result hash %x on chain",
				w, endpoint, len(body), sum, src.hash))
			continue
		}
		return body, report, nil
	}
	return nil, report, fmt.Errorf("request %d: no worker served a result with sha256 %s (workers tried: %s)",
		src.id, hex.EncodeToString(src.hash), strings.Join(src.workers, ", "))
}

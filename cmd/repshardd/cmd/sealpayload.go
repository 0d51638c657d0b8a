package cmd

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cosmos/cosmos-sdk/client"
	"github.com/cosmos/cosmos-sdk/client/flags"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/repshard/repshard/cmd/repshardd/worker"
	"github.com/repshard/repshard/cmd/repshardd/worker/sealed"
	deferraltypes "github.com/repshard/repshard/x/deferral/types"
)

const flagOutDir = "out-dir"

func newSealPayloadCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "seal-payload [request-id] [plaintext-file] --out-dir DIR",
		Short: "Encrypt an ASSIGNED request's payload to its worker(s), one sealed copy per worker to upload",
		Long: `Private payloads (docs/dataplane.md): encrypt the payload of an ASSIGNED
request to the worker holding it (a replicated request: to each running
replica's worker), so only that worker can read it at its payload_uri. The
chain keeps the sha256 of the PLAINTEXT as payload_hash; the worker opens its
copy with its account key and checks that hash before anything runs.

The command reads the request on chain, checks that sha256(plaintext-file) is
its payload_hash, reads each worker's account public key (x/auth), and seals
the file to it (ECIES over secp256k1, AES-256-GCM, bound to the chain id,
the request id and the worker address). It writes one file per worker in
--out-dir and prints where to upload each.

File names: the worker daemon puts its own bech32 address in place of the
literal {worker} in payload_uri. From the first path segment of payload_uri
that holds {worker}, the path is reproduced under --out-dir with the
worker's address: payload_uri https://host/in/data.{worker}.rsp gives
DIR/data.<address>.rsp, https://host/{worker}/data.bin gives
DIR/<address>/data.bin. Without {worker}, the one worker of an unreplicated
request reads the sealed copy at payload_uri itself: DIR/<file>.<address>.rsp
is to be uploaded there (a replicated request needs {worker}: each replica
needs its own copy).

Upload right after the assignment: a worker daemon asks again for a {worker}
copy that answers 404 for up to its --fetch-copy-wait (default 1m), then
reports the request failed. A copy it cannot open (sealed to another worker,
request or chain, or altered) is reported failed and nothing runs.`,
		Example: `repshardd request seal-payload 42 data.bin --out-dir sealed/ --node tcp://localhost:26657`,
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			clientCtx, err := client.GetClientQueryContext(cmd)
			if err != nil {
				return err
			}
			id, err := strconv.ParseUint(args[0], 10, 64)
			if err != nil || id == 0 {
				return fmt.Errorf("request-id must be a positive integer, got %q", args[0])
			}
			outDir, _ := cmd.Flags().GetString(flagOutDir)
			if outDir == "" {
				return fmt.Errorf("--%s is required: the directory the sealed copies are written to", flagOutDir)
			}
			plain, err := os.ReadFile(args[1])
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			if clientCtx.ChainID == "" {
				node, err := clientCtx.GetNode()
				if err != nil {
					return err
				}
				st, err := node.Status(ctx)
				if err != nil {
					return fmt.Errorf("chain id: ask the node: %w (or set --chain-id)", err)
				}
				clientCtx = clientCtx.WithChainID(st.NodeInfo.Network)
			}
			res, err := deferraltypes.NewQueryClient(clientCtx).Request(ctx, &deferraltypes.QueryRequestRequest{RequestId: id})
			if err != nil {
				return fmt.Errorf("request %d: %w", id, err)
			}
			files, err := sealPayload(ctx, res.Request, args[1], plain, clientCtx.ChainID, outDir, accountPubKey(clientCtx))
			if err != nil {
				return err
			}
			for _, f := range files {
				fmt.Fprintf(cmd.OutOrStdout(), "worker %s: upload %s to %s\n", f.worker, f.path, f.uri)
			}
			return nil
		},
	}
	flags.AddQueryFlagsToCmd(cmd)
	cmd.Flags().String(flags.FlagChainID, "", "the chain id the sealed copies are bound to (default: client.toml's, else asked from the node)")
	cmd.Flags().String(flagOutDir, "", "directory to write the sealed copies to (created if missing)")
	return cmd
}

// pubKeyLookup returns a worker account's 33-byte compressed secp256k1
// public key.
type pubKeyLookup func(ctx context.Context, worker string) ([]byte, error)

// accountPubKey reads an account's public key from x/auth.
func accountPubKey(clientCtx client.Context) pubKeyLookup {
	return func(_ context.Context, worker string) ([]byte, error) {
		addr, err := sdk.AccAddressFromBech32(worker)
		if err != nil {
			return nil, err
		}
		acc, err := clientCtx.AccountRetriever.GetAccount(clientCtx, addr)
		if err != nil {
			return nil, fmt.Errorf("account %s: %w", worker, err)
		}
		pk := acc.GetPubKey()
		if pk == nil {
			return nil, fmt.Errorf("account %s has no public key on chain yet (it never signed a transaction)", worker)
		}
		if pk.Type() != "secp256k1" {
			return nil, fmt.Errorf("account %s has a %s key: payloads are sealed to secp256k1 account keys only", worker, pk.Type())
		}
		return pk.Bytes(), nil
	}
}

// sealedFile is one sealed copy: for whom, where it was written, where it
// is to be uploaded.
type sealedFile struct {
	worker, path, uri string
}

// sealTargets are the workers a request's payload is sealed to: the worker
// of an ASSIGNED request, or each running replica's.
func sealTargets(req deferraltypes.Request) ([]string, error) {
	if req.Status != deferraltypes.StatusAssigned {
		return nil, fmt.Errorf("request %d is %s: only an ASSIGNED request has a worker to seal its payload to", req.Id, req.Status)
	}
	var out []string
	for _, run := range req.ReplicaRuns {
		if run.Status == deferraltypes.ReplicaRunning && req.HeldBy(run.Worker) {
			out = append(out, run.Worker)
		}
	}
	if len(out) == 0 && req.Worker != "" && req.HeldBy(req.Worker) {
		out = append(out, req.Worker)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("request %d has no running worker", req.Id)
	}
	return out, nil
}

// sealedFileName is where the copy of worker goes under the output
// directory, and the URI the worker fetches it from (see the command's
// help).
func sealedFileName(payloadURI, plainName, worker string, workers int) (rel, uri string, err error) {
	if !strings.Contains(payloadURI, workerPlaceholder) {
		if workers > 1 {
			return "", "", fmt.Errorf("payload_uri %q has no %s placeholder: the %d replicas' workers cannot share one sealed copy", payloadURI, workerPlaceholder, workers)
		}
		return filepath.Base(plainName) + "." + worker + ".rsp", payloadURI, nil
	}
	uri = strings.ReplaceAll(payloadURI, workerPlaceholder, worker)
	// The path part of the URI, with the placeholder still in it (url.Parse
	// would escape the braces).
	path := payloadURI
	if i := strings.Index(path, "://"); i >= 0 {
		path = path[i+3:]
		if j := strings.Index(path, "/"); j >= 0 {
			path = path[j:]
		}
	}
	if i := strings.IndexAny(path, "?#"); i >= 0 {
		path = path[:i]
	}
	segs := strings.Split(path, "/")
	for i, s := range segs {
		if strings.Contains(s, workerPlaceholder) {
			rel = strings.ReplaceAll(strings.Join(segs[i:], "/"), workerPlaceholder, worker)
			break
		}
	}
	if rel == "" {
		// The placeholder is in the host or the query: name the file after it.
		return filepath.Base(plainName) + "." + worker + ".rsp", uri, nil
	}
	if unescaped, err := url.PathUnescape(rel); err == nil {
		rel = unescaped
	}
	rel = filepath.Clean(filepath.FromSlash(rel))
	if rel == "." || filepath.IsAbs(rel) || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", "", fmt.Errorf("payload_uri %q gives no file name for the sealed copy", payloadURI)
	}
	return rel, uri, nil
}

const workerPlaceholder = worker.WorkerPlaceholder

// sealPayload checks plain against req's payload_hash and writes one
// sealed copy per worker under outDir.
func sealPayload(ctx context.Context, req deferraltypes.Request, plainName string, plain []byte, chainID, outDir string, pubKey pubKeyLookup) ([]sealedFile, error) {
	if chainID == "" {
		return nil, errors.New("the chain id is not set: pass --chain-id (the sealed copies are bound to it)")
	}
	workers, err := sealTargets(req)
	if err != nil {
		return nil, err
	}
	if sum := sha256.Sum256(plain); !bytes.Equal(sum[:], req.PayloadHash) {
		return nil, fmt.Errorf("the file's sha256 is %s, request %d's payload_hash is %s: not its payload", hex.EncodeToString(sum[:]), req.Id, hex.EncodeToString(req.PayloadHash))
	}
	if uint64(len(plain)) > req.DataBytes {
		return nil, fmt.Errorf("the file has %d bytes, request %d declares %d", len(plain), req.Id, req.DataBytes)
	}
	var out []sealedFile
	for _, w := range workers {
		rel, uri, err := sealedFileName(req.PayloadUri, plainName, w, len(workers))
		if err != nil {
			return nil, err
		}
		pub, err := pubKey(ctx, w)
		if err != nil {
			return nil, err
		}
		env, err := sealed.Seal(plain, pub, chainID, req.Id, w)
		if err != nil {
			return nil, fmt.Errorf("seal to %s: %w", w, err)
		}
		path := filepath.Join(outDir, rel)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(path, env, 0o644); err != nil {
			return nil, err
		}
		out = append(out, sealedFile{worker: w, path: path, uri: uri})
	}
	return out, nil
}

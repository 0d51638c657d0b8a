package cmd

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/cosmos/cosmos-sdk/client"
	"github.com/cosmos/cosmos-sdk/client/flags"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/repshard/repshard/cmd/repshardd/worker"
)

// Flags of `worker run`.
const (
	flagExec          = "exec"
	flagExecTimeout   = "exec-timeout"
	flagConcurrency   = "concurrency"
	flagBatch         = "batch"
	flagGRPCAddr      = "grpc"
	flagPollInterval  = "poll-interval"
	flagMetricsAddr   = "metrics"
	flagStateFile     = "state-file"
	flagGasAdjustment = "gas-adjustment"

	flagRateRequesters  = "rate-requesters"
	flagRatingCompleted = "rating-completed"
	flagRatingFailed    = "rating-failed"

	// The data plane (docs/dataplane.md).
	flagFetchTimeout        = "fetch-timeout"
	flagFetchFileRoot       = "fetch-file-root"
	flagFetchAllowPrivate   = "fetch-allow-private"
	flagFetchCopyWait       = "fetch-copy-wait"
	flagResultRetention     = "result-retention"
	flagResultStoreMaxBytes = "result-store-max-bytes"
	flagListen              = "listen"
	flagListenTLSCert       = "listen-tls-cert"
	flagListenTLSKey        = "listen-tls-key"
	flagListenConcurrency   = "listen-concurrency"
	flagListenRate          = "listen-rate"
	flagListenWriteTimeout  = "listen-write-timeout"
)

// NewWorkerCmd returns `repshardd worker`.
func NewWorkerCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "worker",
		Short: "Run a worker daemon that processes the requests assigned to a worker account",
		RunE:  client.ValidateCmd,
		// The root's pre-run fills every flag the user did not set from the
		// node config of --home; app.toml's [grpc] table would land in
		// --grpc. Keep what the user typed.
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			f := cmd.Flags().Lookup(flagGRPCAddr)
			var val string
			set := f != nil && f.Changed
			if set {
				val = f.Value.String()
			}
			if root := cmd.Root(); root.PersistentPreRunE != nil {
				if err := root.PersistentPreRunE(cmd, args); err != nil {
					return err
				}
			}
			if f != nil {
				if err := f.Value.Set(val); err != nil {
					return err
				}
				f.Changed = set
			}
			return nil
		},
	}
	cmd.AddCommand(newWorkerRunCmd())
	return cmd
}

func newWorkerRunCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "run --from KEY",
		Short: "Process the requests assigned to the worker account KEY until SIGINT/SIGTERM",
		Long: `Runs the worker daemon of a registered worker account (tx shard register-worker).

It learns its assignments from the node's event subscriptions over the
websocket (--node), and polls the requests-by-worker query when the
subscription drops. Each assigned request runs through the executor:

  built in       the result is the 64 hex digits of the payload's sha256
                 and a newline; the result hash reported is its sha256
  --exec CMD     sh -c CMD with the payload on stdin and the request in the
                 environment (REPSHARD_REQUEST_ID, REPSHARD_ATTEMPT,
                 REPSHARD_REQUESTER, REPSHARD_CLASS, REPSHARD_COMPUTE_UNITS,
                 REPSHARD_PAYLOAD_HASH, REPSHARD_PAYLOAD_URI,
                 REPSHARD_DATA_BYTES, REPSHARD_RESULT_FILE); the result is
                 what it writes to $REPSHARD_RESULT_FILE (the hash reported
                 is that file's sha256), or, if it writes no such file, the
                 first word of stdout is the result hash (64 hex digits) and
                 no result is kept; a non-zero exit or --exec-timeout is a
                 failure, reported with the last line of stderr as the reason

A payload held at an http://, https:// or file:// payload_uri is downloaded
before the executor runs: at most the request's data_bytes, within
--fetch-timeout, and its sha256 must be the request's payload_hash; if not,
the request is reported failed and nothing runs. Other schemes are left to
the --exec program (REPSHARD_PAYLOAD_URI). file:// reads only under
--fetch-file-root, and http(s) reaches no loopback or private address unless
--fetch-allow-private.

Private payloads (docs/dataplane.md): a payload_uri may hold the literal
{worker}, which the daemon replaces with KEY's address, so each assigned
worker fetches its own copy (a {worker} copy not there yet, HTTP 404, is
asked for again up to --fetch-copy-wait: the requester can seal only once the
worker is known). A copy that starts with the RSP1 magic is sealed to KEY's
account key (repshardd request seal-payload): the daemon opens it with KEY's
private key, at most data_bytes plus the 65-byte envelope, and checks the
plaintext's sha256 against payload_hash. A copy sealed to another worker,
request or chain, or altered, is reported failed and nothing runs. Opening
needs KEY's private key in the keyring (test, file, os, kwallet, pass
backends); a Ledger or offline KEY cannot open sealed payloads.

Every result the executor produced bytes for is kept in the result store,
<home>/results/<address>/, for --result-retention, up to
--result-store-max-bytes in all (oldest out first). With --listen ADDR the
daemon serves them over HTTP(S) to their requester, or the requester's result
delegate, who signs a challenge with its key (GET /v1/challenge, then GET
/v1/results/{request_id}; docs/dataplane.md).

Results are reported with MsgCompleteRequest / MsgFailRequest, up to --batch
per transaction, signed with KEY (gas simulated, fee from --gas-prices). An
assignment is a request and an attempt: a request the chain re-queued (an
expired assignment, a failure report) comes back as a new attempt, to
another worker. A report whose assignment is no longer KEY's (deadline
passed, request re-queued or re-assigned) is logged as "lost the
assignment" and dropped.

Once its report is in a block, the daemon rates the request's requester
(MsgSubmitReview, batched with the reports): --rating-completed (default 5)
after a completion, --rating-failed (default 3) after a failure report that
ended the request FAILED (one the chain sent back to the queue for another
worker is not KEY's to rate: no review). --rate-requesters=false sends no
reviews. A review the chain refuses is logged and not retried.

What was reported and rated is recorded in the state file (default
<home>/worker/<address>.jsonl) before each broadcast: a restarted daemon
never reports an assignment twice nor rates a request twice, and picks up
the assignments made while it was down. One log line per request;
--metrics ADDR serves Prometheus metrics (repshard_worker_assigned_total,
_completed_total, _failed_total, _rejected_total, _lost_total,
_reviews_sent_total, _reviews_refused_total, _reviews_skipped_total,
_in_flight) at http://ADDR/metrics.`,
		Example: `  repshardd worker run --from worker1 --keyring-backend test --node tcp://127.0.0.1:26657
  repshardd worker run --from worker1 --exec './process.sh' --exec-timeout 30s --concurrency 8 --metrics 127.0.0.1:9300
  repshardd worker run --from worker1 --rating-completed 4 --rating-failed 2
  repshardd worker run --from worker1 --rate-requesters=false
  repshardd worker run --from worker1 --listen 0.0.0.0:9400 --listen-tls-cert cert.pem --listen-tls-key key.pem \
    --fetch-timeout 1m --result-retention 72h --result-store-max-bytes 10737418240`,
		Args: cobra.NoArgs,
		RunE: runWorker,
	}
	f := cmd.Flags()
	f.String(flags.FlagFrom, "", "key name of the worker account (default: keyring-default-keyname of client.toml)")
	f.String(flags.FlagNode, "tcp://localhost:26657", "CometBFT RPC of the node: websocket subscription, broadcast, tx lookup")
	f.String(flagGRPCAddr, "", "gRPC address of the node (host:port, plaintext) for queries and simulation; default: through --node")
	f.String(flags.FlagChainID, "", "chain id (default: client.toml, else asked from the node)")
	f.String(flags.FlagKeyringBackend, flags.DefaultKeyringBackend, "keyring backend (os|file|kwallet|pass|test|memory)")
	f.String(flags.FlagKeyringDir, "", "keyring folder (default: --home)")
	f.String(flagExec, "", "program run through sh -c for each request (default: built-in sha256 of the payload)")
	f.Duration(flagExecTimeout, 10*time.Second, "time limit of one --exec run; keep it well below the assignment deadline")
	f.Int(flagConcurrency, 4, "requests executed at once")
	f.Int(flagBatch, 100, "most reports in one transaction")
	f.String(flags.FlagGasPrices, defaultMinGasPrices, "gas price of the report transactions")
	f.Float64(flagGasAdjustment, 1.5, "multiplier of the simulated gas")
	f.Duration(flagPollInterval, 2*time.Second, "polling interval while the event subscription is down")
	f.String(flagMetricsAddr, "", "serve Prometheus metrics at http://ADDR/metrics (e.g. 127.0.0.1:9300)")
	f.String(flagStateFile, "", "state file (default <home>/worker/<address>.jsonl)")
	f.Bool(flagRateRequesters, true, "rate the requester of each request the worker finished (MsgSubmitReview, once per request)")
	f.Uint32(flagRatingCompleted, worker.DefaultRatingComplete, "rating (1 worst .. 5 best) of the requester after a completed request")
	f.Uint32(flagRatingFailed, worker.DefaultRatingFailed, "rating (1 worst .. 5 best) of the requester after a request that ended FAILED with this worker's report")
	f.Duration(flagFetchTimeout, worker.DefaultFetchTimeout, "time limit of one payload download (http, https, file payload_uri)")
	f.String(flagFetchFileRoot, "", "directory file:// payload URIs may point into (default: file:// payloads are refused)")
	f.Bool(flagFetchAllowPrivate, false, "let payload downloads reach loopback, private and link-local addresses")
	f.Duration(flagFetchCopyWait, worker.DefaultCopyWait, "how long a {worker} payload_uri answering 404 is asked again (the requester uploads its sealed copy after the assignment)")
	f.Duration(flagResultRetention, worker.DefaultResultRetention, "how long a result is kept for its requester")
	f.Int64(flagResultStoreMaxBytes, worker.DefaultResultStoreMaxBytes, "most bytes of results kept; the oldest go first")
	f.String(flagListen, "", "serve the kept results to their requesters at ADDR (host:port; default: off)")
	f.String(flagListenTLSCert, "", "TLS certificate (PEM) of the result server; with --listen-tls-key it serves HTTPS")
	f.String(flagListenTLSKey, "", "TLS private key (PEM) of the result server")
	f.Int(flagListenConcurrency, worker.DefaultResultServerConcurrency, "most result-server requests handled at once (more: 503)")
	f.Float64(flagListenRate, worker.DefaultResultServerRate, "result-server requests a second, server-wide (more: 429)")
	f.Duration(flagListenWriteTimeout, worker.DefaultResultWriteTimeout, "time limit of sending one result-server answer")
	return cmd
}

func runWorker(cmd *cobra.Command, _ []string) error {
	clientCtx, err := client.GetClientQueryContext(cmd)
	if err != nil {
		return err
	}
	f := cmd.Flags()
	rateRequesters, _ := f.GetBool(flagRateRequesters)
	ratingCompleted, _ := f.GetUint32(flagRatingCompleted)
	ratingFailed, _ := f.GetUint32(flagRatingFailed)
	for _, r := range []struct {
		flag string
		v    uint32
	}{{flagRatingCompleted, ratingCompleted}, {flagRatingFailed, ratingFailed}} {
		if r.v < worker.MinRating || r.v > worker.MaxRating {
			return fmt.Errorf("--%s %d: rate %d (worst) to %d (best)", r.flag, r.v, worker.MinRating, worker.MaxRating)
		}
	}
	from, _ := f.GetString(flags.FlagFrom)
	if from == "" {
		from = clientCtx.KeyringDefaultKeyName // client.toml keyring-default-keyname
	}
	if from == "" {
		return errors.New("--from KEY is required (or keyring-default-keyname in client.toml): the key of a registered worker account")
	}
	if clientCtx.Keyring == nil {
		return errors.New("no keyring: set --keyring-backend")
	}
	if clientCtx.Client == nil {
		return errors.New("no node: set --node")
	}
	rec, err := clientCtx.Keyring.Key(from)
	if err != nil {
		return fmt.Errorf("key %q: %w", from, err)
	}
	addr, err := rec.GetAddress()
	if err != nil {
		return err
	}
	clientCtx = clientCtx.WithFromName(from).WithFromAddress(addr).WithFrom(from)

	// Only an explicit --grpc counts: the config interceptor fills unchanged
	// flags (and the client config) from app.toml, whose [grpc] table is the
	// node's server, not a client setting.
	clientCtx = clientCtx.WithGRPCClient(nil).WithGRPCConnProvider(nil)
	if grpcAddr, _ := f.GetString(flagGRPCAddr); f.Changed(flagGRPCAddr) && grpcAddr != "" {
		conn, err := grpc.NewClient(grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			return fmt.Errorf("--%s: %w", flagGRPCAddr, err)
		}
		defer conn.Close()
		clientCtx = clientCtx.WithGRPCClient(conn).WithGRPCConnProvider(client.NewGRPCConnProvider(conn, nil))
	}

	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	if clientCtx.ChainID == "" {
		st, err := clientCtx.Client.Status(ctx)
		if err != nil {
			return fmt.Errorf("chain id: ask the node %s: %w (or set --chain-id)", clientCtx.NodeURI, err)
		}
		clientCtx = clientCtx.WithChainID(st.NodeInfo.Network)
	}

	gasPricesStr, _ := f.GetString(flags.FlagGasPrices)
	gasPrices, err := sdk.ParseDecCoins(gasPricesStr)
	if err != nil {
		return fmt.Errorf("--%s: %w", flags.FlagGasPrices, err)
	}
	gasAdj, _ := f.GetFloat64(flagGasAdjustment)
	concurrency, _ := f.GetInt(flagConcurrency)
	batch, _ := f.GetInt(flagBatch)
	if concurrency < 1 || batch < 1 {
		return fmt.Errorf("--%s and --%s must be at least 1", flagConcurrency, flagBatch)
	}
	poll, _ := f.GetDuration(flagPollInterval)
	statePath, _ := f.GetString(flagStateFile)
	if statePath == "" {
		statePath = filepath.Join(clientCtx.HomeDir, "worker", addr.String()+".jsonl")
	}

	fetchTimeout, _ := f.GetDuration(flagFetchTimeout)
	fetchFileRoot, _ := f.GetString(flagFetchFileRoot)
	fetchAllowPrivate, _ := f.GetBool(flagFetchAllowPrivate)
	fetchCopyWait, _ := f.GetDuration(flagFetchCopyWait)
	if fetchTimeout <= 0 || fetchCopyWait <= 0 {
		return fmt.Errorf("--%s and --%s must be positive", flagFetchTimeout, flagFetchCopyWait)
	}
	if fetchFileRoot != "" {
		if st, err := os.Stat(fetchFileRoot); err != nil || !st.IsDir() {
			return fmt.Errorf("--%s %s: not a directory", flagFetchFileRoot, fetchFileRoot)
		}
	}
	retention, _ := f.GetDuration(flagResultRetention)
	storeMax, _ := f.GetInt64(flagResultStoreMaxBytes)
	if retention <= 0 || storeMax <= 0 {
		return fmt.Errorf("--%s and --%s must be positive", flagResultRetention, flagResultStoreMaxBytes)
	}
	results, err := worker.OpenResultStore(worker.ResultStoreConfig{
		Dir:       filepath.Join(clientCtx.HomeDir, "results", addr.String()),
		Retention: retention,
		MaxBytes:  storeMax,
	})
	if err != nil {
		return err
	}
	defer results.Close()

	var executor worker.Executor = worker.BuiltinExecutor{}
	if execCmd, _ := f.GetString(flagExec); execCmd != "" {
		timeout, _ := f.GetDuration(flagExecTimeout)
		executor = worker.CommandExecutor{Command: execCmd, Timeout: timeout}
	}

	var metrics *worker.Metrics
	if metricsAddr, _ := f.GetString(flagMetricsAddr); metricsAddr != "" {
		metrics = worker.NewMetrics()
		ln, err := net.Listen("tcp", metricsAddr)
		if err != nil {
			return fmt.Errorf("--%s: %w", flagMetricsAddr, err)
		}
		mux := http.NewServeMux()
		mux.Handle("/metrics", promhttp.HandlerFor(metrics.Registry, promhttp.HandlerOpts{}))
		srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
		go func() { _ = srv.Serve(ln) }()
		defer func() {
			shutdownCtx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			_ = srv.Shutdown(shutdownCtx)
		}()
	}

	w, err := worker.New(worker.Config{
		ClientCtx:     clientCtx,
		KeyName:       from,
		RPCAddress:    clientCtx.NodeURI,
		Executor:      executor,
		Concurrency:   concurrency,
		MaxBatch:      batch,
		PollInterval:  poll,
		StatePath:     statePath,
		GasPrices:     gasPrices,
		GasAdjustment: gasAdj,
		Log:           cmd.OutOrStdout(),
		Metrics:       metrics,
		Rating:        worker.RatingPolicy{Disabled: !rateRequesters, Completed: ratingCompleted, Failed: ratingFailed},
		Fetch:         worker.FetchConfig{Timeout: fetchTimeout, FileRoot: fetchFileRoot, AllowPrivateNetworks: fetchAllowPrivate, CopyWait: fetchCopyWait},
		Results:       results,
	})
	if err != nil {
		return err
	}
	if listenAddr, _ := f.GetString(flagListen); listenAddr != "" {
		stopServer, err := startResultServer(cmd, clientCtx, results, w.Logf)
		if err != nil {
			return err
		}
		defer stopServer()
	}
	return w.Run(ctx)
}

// startResultServer serves the result store at --listen (HTTPS with both
// TLS flags). Its delegate lookups go to the node through clientCtx: gRPC
// with --grpc, else CometBFT's ABCI query.
func startResultServer(cmd *cobra.Command, clientCtx client.Context, results *worker.ResultStore, logf func(string, ...any)) (stop func(), err error) {
	f := cmd.Flags()
	listenAddr, _ := f.GetString(flagListen)
	certFile, _ := f.GetString(flagListenTLSCert)
	keyFile, _ := f.GetString(flagListenTLSKey)
	if (certFile == "") != (keyFile == "") {
		return nil, fmt.Errorf("--%s and --%s go together", flagListenTLSCert, flagListenTLSKey)
	}
	concurrency, _ := f.GetInt(flagListenConcurrency)
	rate, _ := f.GetFloat64(flagListenRate)
	writeTimeout, _ := f.GetDuration(flagListenWriteTimeout)
	if concurrency < 1 || rate <= 0 || writeTimeout <= 0 {
		return nil, fmt.Errorf("--%s, --%s and --%s must be positive", flagListenConcurrency, flagListenRate, flagListenWriteTimeout)
	}
	rs, err := worker.NewResultServer(worker.ResultServerConfig{
		ChainID:      clientCtx.ChainID,
		Store:        results,
		Delegates:    worker.ChainDelegates{Querier: worker.GRPCResultDelegateQuerier{Conn: clientCtx}},
		Concurrency:  concurrency,
		Rate:         rate,
		Burst:        max(1, int(2*rate)),
		WriteTimeout: writeTimeout,
		Logf:         logf,
	})
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", listenAddr)
	if err != nil {
		return nil, fmt.Errorf("--%s: %w", flagListen, err)
	}
	srv := rs.HTTPServer()
	scheme := "http"
	if certFile != "" {
		scheme = "https"
	}
	go func() {
		var err error
		if certFile != "" {
			err = srv.ServeTLS(ln, certFile, keyFile)
		} else {
			err = srv.Serve(ln)
		}
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			logf("result server: %v", err)
		}
	}()
	logf("result server: serving results at %s://%s", scheme, ln.Addr())
	return func() {
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdownCtx)
	}, nil
}

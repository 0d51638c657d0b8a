package cli

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/cosmos/cosmos-sdk/client"
	"github.com/cosmos/cosmos-sdk/client/flags"
	"github.com/cosmos/cosmos-sdk/client/tx"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/repshard/repshard/x/deferral/types"
	reputationtypes "github.com/repshard/repshard/x/reputation/types"
)

// RequestLine is one line of a submit-requests file: the fields of
// submit-request, keys in snake_case, values spelled as on its command line.
type RequestLine struct {
	Class          string  `json:"class"`
	ComputeUnits   uint64  `json:"compute_units"`
	MaxFee         string  `json:"max_fee"`
	Urgency        string  `json:"urgency,omitempty"`
	Payload        *string `json:"payload,omitempty"`
	PayloadHash    string  `json:"payload_hash,omitempty"`
	PayloadURI     string  `json:"payload_uri,omitempty"`
	DataBytes      uint64  `json:"data_bytes,omitempty"`
	Replicas       uint32  `json:"replicas,omitempty"`
	DeadlineBlocks uint64  `json:"deadline_blocks,omitempty"`
	PowNonce       string  `json:"pow_nonce,omitempty"`
}

// SubmitRequestsCmd is `repshardd tx deferral submit-requests`.
func SubmitRequestsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "submit-requests [file]",
		Short: "Submit a batch of requests in one transaction, one JSON object per line of file ('-' reads stdin)",
		Long: `Submit up to max_batch_requests requests in one transaction (MsgSubmitRequests).
Each entry is decided exactly as submit-request would decide it, in file
order, and the response lists each entry's id, status, shard, worker or queue
position and fee. One bad entry fails the whole batch, and the error names the
entry (counting from 0); nothing is submitted or escrowed then. The batch pays
one signature and one transaction fee, and for the state it changes once: a
batch of 100 costs a fraction of 100 single submissions.

Each non-empty line is a JSON object with the keys of submit-request:
  class            high-priority, low-priority, data-intensive or compute-intensive (required)
  compute_units    a positive integer (required)
  max_fee          e.g. "5000urep" (required)
  urgency          low, normal (default), high or critical
  payload          inline request data, as text
  payload_hash     hex sha256 of data held elsewhere (instead of payload)
  payload_uri      where that data can be fetched
  data_bytes       its size in bytes
  replicas         replicated execution on this many workers (default 1)
  deadline_blocks  the requester's own deadline, in blocks (0: none)
  pow_nonce        a proof-of-work nonce, hex
Unknown keys are refused. --pow-difficulty searches a nonce for every entry
that has none, bound to consecutive submission numbers from the requester's
next one.`,
		Example: `printf '%s\n' '{"class":"low-priority","compute_units":1,"max_fee":"5000urep","urgency":"normal","payload":"job 1"}' \
  '{"class":"data-intensive","compute_units":4,"max_fee":"40000urep","payload_hash":"9f86d0…","payload_uri":"ipfs://bafy…","data_bytes":1048576}' > jobs.jsonl
repshardd tx deferral submit-requests jobs.jsonl --from alice --gas auto --gas-adjustment 1.3`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			clientCtx, err := client.GetClientTxContext(cmd)
			if err != nil {
				return err
			}
			clientCtx = clientCtx.WithOutput(cmd.OutOrStdout())
			in := cmd.InOrStdin()
			if args[0] != "-" {
				f, err := os.Open(args[0])
				if err != nil {
					return err
				}
				defer f.Close()
				in = f
			}
			from := clientCtx.GetFromAddress()
			msg, err := ReadRequestLines(in, from)
			if err != nil {
				return err
			}
			if err := attachBatchProofsOfWork(cmd, from, msg, func() (uint64, error) {
				return nextPowSubmission(cmd.Context(), clientCtx, from)
			}); err != nil {
				return err
			}
			return tx.GenerateOrBroadcastTxCLI(clientCtx, cmd.Flags(), msg)
		},
	}
	cmd.Flags().Uint32(FlagPowDifficulty, 0, "search a proof-of-work nonce with at least this many leading zero bits for every entry without pow_nonce")
	cmd.Flags().Uint64(FlagPowMaxTries, DefaultPowMaxTries, "the most hashes each search tries")
	cmd.Flags().Uint64(FlagPowSubmission, 0, "the submission number the first entry binds (default: the requester's next_pow_submission, read from the node)")
	flags.AddTxFlagsToCmd(cmd)
	return cmd
}

// ReadRequestLines reads a submit-requests file into a batch of from.
// Errors name the line.
func ReadRequestLines(r io.Reader, from sdk.AccAddress) (*types.MsgSubmitRequests, error) {
	msg := &types.MsgSubmitRequests{Requester: from.String()}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 4*types.MaxInlinePayloadLimit+4096)
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var l RequestLine
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&l); err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		if dec.More() {
			return nil, fmt.Errorf("line %d: one JSON object per line", n)
		}
		single, err := l.msg(from)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		msg.Requests = append(msg.Requests, single.Spec())
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(msg.Requests) == 0 {
		return nil, fmt.Errorf("no requests: give one JSON object per line")
	}
	return msg, nil
}

// msg checks a line as submit-request checks its arguments and flags.
func (l RequestLine) msg(from sdk.AccAddress) (*types.MsgSubmitRequest, error) {
	if l.Class == "" || l.ComputeUnits == 0 || l.MaxFee == "" {
		return nil, fmt.Errorf("class, compute_units (positive) and max_fee are required")
	}
	class, err := ParseClass(l.Class)
	if err != nil {
		return nil, err
	}
	maxFee, err := parseMaxFee(l.MaxFee)
	if err != nil {
		return nil, err
	}
	urgency := types.UrgencyNormal
	if l.Urgency != "" {
		if urgency, err = ParseUrgency(l.Urgency); err != nil {
			return nil, err
		}
	}
	msg := &types.MsgSubmitRequest{
		Requester: from.String(), Class: class, Urgency: urgency, ComputeUnits: l.ComputeUnits,
		PayloadUri: l.PayloadURI, MaxFee: maxFee, Replicas: max(1, l.Replicas), DeadlineBlocks: l.DeadlineBlocks,
	}
	var payload []byte
	if l.Payload != nil {
		payload = []byte(*l.Payload)
	}
	if err := setRequestData(msg, payload, l.Payload != nil, l.PayloadHash, l.DataBytes, "payload or payload_hash", "payload_hash", "data_bytes"); err != nil {
		return nil, err
	}
	if l.PowNonce != "" {
		nonce, err := hex.DecodeString(l.PowNonce)
		if err != nil || len(nonce) == 0 || len(nonce) > reputationtypes.MaxPowNonceBytes {
			return nil, fmt.Errorf("pow_nonce must be 1..%d bytes of hex", reputationtypes.MaxPowNonceBytes)
		}
		msg.PowNonce = nonce
	}
	return msg, nil
}

// attachBatchProofsOfWork searches, with --pow-difficulty, a nonce for each
// entry without one; entry i binds the first submission number + i (the
// chain numbers a batch's entries in order).
func attachBatchProofsOfWork(cmd *cobra.Command, from sdk.AccAddress, msg *types.MsgSubmitRequests, nextSubmission func() (uint64, error)) error {
	if !cmd.Flags().Changed(FlagPowDifficulty) {
		return nil
	}
	difficulty, _ := cmd.Flags().GetUint32(FlagPowDifficulty)
	maxTries, _ := cmd.Flags().GetUint64(FlagPowMaxTries)
	first, _ := cmd.Flags().GetUint64(FlagPowSubmission)
	if !cmd.Flags().Changed(FlagPowSubmission) {
		var err error
		if first, err = nextSubmission(); err != nil {
			return fmt.Errorf("read the requester's next submission number for the proofs of work (or give --%s): %w", FlagPowSubmission, err)
		}
	}
	for i := range msg.Requests {
		r := &msg.Requests[i]
		if len(r.PowNonce) > 0 {
			continue
		}
		payloadHash := r.PayloadHash
		if len(r.Payload) > 0 {
			sum := sha256.Sum256(r.Payload)
			payloadHash = sum[:]
		}
		nonce, _, err := FindPowNonce(from, payloadHash, first+uint64(i), difficulty, maxTries)
		if err != nil {
			return fmt.Errorf("entry %d: %w", i, err)
		}
		r.PowNonce = nonce
	}
	return nil
}

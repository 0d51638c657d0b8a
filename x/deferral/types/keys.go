package types

import "cosmossdk.io/collections"

const (
	// ModuleName is the name of the x/deferral module.
	ModuleName = "deferral"
	// StoreKey is the KV store key of the module.
	StoreKey = ModuleName
)

// Collection prefixes. Never renumber or reuse a prefix once released.
var (
	ParamsKey      = collections.NewPrefix(0)
	RequestsKey    = collections.NewPrefix(1)
	RequestSeqKey  = collections.NewPrefix(2)
	ByRequesterKey = collections.NewPrefix(3)
	ByShardKey     = collections.NewPrefix(4)
	// Prefix 5 held a by-status index; the queue, deadline and finished
	// indexes serve that query. Do not reuse 5.
	ByWorkerKey      = collections.NewPrefix(6)
	QueueKey         = collections.NewPrefix(7)
	DeadlinesKey     = collections.NewPrefix(8)
	QueueExpiriesKey = collections.NewPrefix(9)
	FinishedKey      = collections.NewPrefix(10)
	OpenRequestsKey  = collections.NewPrefix(11)
	DrainCursorKey   = collections.NewPrefix(12)
	// Prefix 13 held an open-fee total; the escrow account's balance is that
	// total, so it was dropped. Do not reuse 13.

	// ResultDelegatesKey holds each requester's result delegate
	// (MsgSetResultDelegate): requester -> delegate.
	ResultDelegatesKey = collections.NewPrefix(14)

	// ItemFailuresKey and QuarantinedItemsKey hold the EndBlock quarantine
	// (internal/quarantine): the consecutive failures of failing items, by
	// (step, item), and the quarantined items. Every module with EndBlock
	// items keeps its quarantine under this same pair of prefixes.
	ItemFailuresKey     = collections.NewPrefix(64)
	QuarantinedItemsKey = collections.NewPrefix(65)
)

// MaxFailureReasonBytes caps the reason of MsgFailRequest.
const MaxFailureReasonBytes = 256

// MaxPayloadURIBytes caps the payload URI of MsgSubmitRequest.
const MaxPayloadURIBytes = 512

// ResultHashBytes is the length of a sha256 result or payload hash.
const ResultHashBytes = 32

// QueuePositionScanLimit bounds how many queue entries MsgSubmitRequest counts
// to report a queue position.
const QueuePositionScanLimit = 64

package types

import errorsmod "cosmossdk.io/errors"

// x/reputation errors. Codes start at 2; 1 is reserved.
var (
	ErrUnauthorized   = errorsmod.Register(ModuleName, 2, "unauthorized: signer is not the module authority")
	ErrInvalidParams  = errorsmod.Register(ModuleName, 3, "invalid params")
	ErrUnknownOutcome = errorsmod.Register(ModuleName, 4, "unknown outcome")
	ErrInvalidAddress = errorsmod.Register(ModuleName, 5, "invalid address")
	// ErrInsufficientWork: a request's proof-of-work nonce does not reach the
	// minimum difficulty.
	ErrInsufficientWork = errorsmod.Register(ModuleName, 6, "proof of work below the minimum difficulty")
	// ErrInvalidNonce: a proof-of-work nonce longer than MaxPowNonceBytes.
	ErrInvalidNonce = errorsmod.Register(ModuleName, 7, "invalid proof-of-work nonce")
	// ErrInvalidRating: a review rating outside 1..5.
	ErrInvalidRating = errorsmod.Register(ModuleName, 8, "invalid rating")
	// ErrRequestNotFound: a review names a request that does not exist.
	ErrRequestNotFound = errorsmod.Register(ModuleName, 9, "request not found")
	// ErrRequestNotFinished: a review names a request no worker has finished
	// (queued, assigned, expired or cancelled).
	ErrRequestNotFinished = errorsmod.Register(ModuleName, 10, "request not processed")
	// ErrNotParty: the reviewer is not the worker that processed the request.
	ErrNotParty = errorsmod.Register(ModuleName, 11, "reviewer did not process the request")
	// ErrDuplicateReview: the request was already reviewed.
	ErrDuplicateReview = errorsmod.Register(ModuleName, 12, "request already reviewed")
	// ErrSelfReview: the reviewer is the request's requester.
	ErrSelfReview = errorsmod.Register(ModuleName, 13, "self-review")
	// ErrNoBond: the reviewer has no worker bond left to weigh its review.
	ErrNoBond = errorsmod.Register(ModuleName, 14, "reviewer has no worker bond")
	// ErrRequestNotCompleted: a worker rating names a request that no worker
	// completed (queued, assigned, failed, expired or cancelled).
	ErrRequestNotCompleted = errorsmod.Register(ModuleName, 15, "request not completed")
	// ErrNotRequester: the rater is not the request's requester.
	ErrNotRequester = errorsmod.Register(ModuleName, 16, "rater is not the requester of the request")
	// ErrDuplicateRating: the worker of the request was already rated.
	ErrDuplicateRating = errorsmod.Register(ModuleName, 17, "request's worker already rated")
	// ErrSelfRating: the worker of the request is its requester.
	ErrSelfRating = errorsmod.Register(ModuleName, 18, "self-rating")
	// ErrUnknownWorkerOutcome: RecordWorkerOutcome got an outcome it does not know.
	ErrUnknownWorkerOutcome = errorsmod.Register(ModuleName, 19, "unknown worker outcome")
	// ErrWorkerNotUnresponsive: MsgResumeWorker for a worker that is not
	// marked unresponsive (nothing to resume).
	ErrWorkerNotUnresponsive = errorsmod.Register(ModuleName, 20, "worker is not unresponsive")
	// ErrQuarantinedItemNotFound: MsgRetryQuarantined or MsgDropQuarantined
	// names no quarantined item.
	ErrQuarantinedItemNotFound = errorsmod.Register(ModuleName, 21, "no such quarantined item")
	// ErrQuarantineStale: the quarantined item no longer belongs in its step
	// (e.g. the worker is no longer paused); it cannot be retried, only
	// dropped.
	ErrQuarantineStale = errorsmod.Register(ModuleName, 22, "quarantined item no longer belongs in its step")
)

package types

import errorsmod "cosmossdk.io/errors"

// x/deferral errors. Codes start at 2; 1 is reserved.
var (
	ErrUnauthorized       = errorsmod.Register(ModuleName, 2, "unauthorized: signer is not the module authority")
	ErrInvalidParams      = errorsmod.Register(ModuleName, 3, "invalid params")
	ErrInvalidClass       = errorsmod.Register(ModuleName, 4, "invalid request class")
	ErrInvalidUrgency     = errorsmod.Register(ModuleName, 5, "invalid urgency")
	ErrInvalidUnits       = errorsmod.Register(ModuleName, 6, "invalid compute units")
	ErrPayloadTooLarge    = errorsmod.Register(ModuleName, 7, "payload too large")
	ErrInvalidPayload     = errorsmod.Register(ModuleName, 8, "invalid payload")
	ErrMaxFeeTooLow       = errorsmod.Register(ModuleName, 9, "max fee below the price")
	ErrTooManyOpen        = errorsmod.Register(ModuleName, 10, "too many open requests")
	ErrRequestNotFound    = errorsmod.Register(ModuleName, 11, "request not found")
	ErrNotAssignedWorker  = errorsmod.Register(ModuleName, 12, "signer is not the request's assigned worker")
	ErrRequestNotAssigned = errorsmod.Register(ModuleName, 13, "request is not assigned")
	ErrDeadlinePassed     = errorsmod.Register(ModuleName, 14, "assignment deadline has passed")
	ErrInvalidResultHash  = errorsmod.Register(ModuleName, 15, "invalid result hash")
	ErrNotRequester       = errorsmod.Register(ModuleName, 16, "signer is not the requester")
	ErrRequestNotQueued   = errorsmod.Register(ModuleName, 17, "request is not queued") // no longer returned (see ErrNotCancellable); code 17 stays taken
	ErrInvalidReason      = errorsmod.Register(ModuleName, 18, "invalid failure reason")
	ErrInvalidReplicas    = errorsmod.Register(ModuleName, 19, "invalid number of replicas")
	ErrDataTooLarge       = errorsmod.Register(ModuleName, 20, "declared data too large")
	ErrInvalidDeadline    = errorsmod.Register(ModuleName, 21, "invalid deadline")
	ErrNotCancellable     = errorsmod.Register(ModuleName, 22, "request can no longer be cancelled")
	ErrInvalidBatch       = errorsmod.Register(ModuleName, 23, "invalid batch of requests")
	// ErrQuarantinedItemNotFound: MsgRetryQuarantined or MsgDropQuarantined
	// names no quarantined item.
	ErrQuarantinedItemNotFound = errorsmod.Register(ModuleName, 24, "no such quarantined item")
	// ErrQuarantineStale: the quarantined item no longer belongs in its step
	// (e.g. the request ended meanwhile); it cannot be retried, only dropped.
	ErrQuarantineStale = errorsmod.Register(ModuleName, 25, "quarantined item no longer belongs in its step")
	// ErrInvalidResultDelegate: MsgSetResultDelegate names the requester
	// itself as its delegate.
	ErrInvalidResultDelegate = errorsmod.Register(ModuleName, 26, "invalid result delegate")
)

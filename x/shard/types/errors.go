package types

import errorsmod "cosmossdk.io/errors"

// x/shard errors. Codes start at 2; 1 is reserved. Never renumber.
var (
	ErrUnauthorized          = errorsmod.Register(ModuleName, 2, "unauthorized: signer is not the module authority")
	ErrInvalidParams         = errorsmod.Register(ModuleName, 3, "invalid params")
	ErrInvalidClass          = errorsmod.Register(ModuleName, 4, "invalid shard class")
	ErrInvalidCapacity       = errorsmod.Register(ModuleName, 5, "invalid capacity units")
	ErrInvalidBond           = errorsmod.Register(ModuleName, 6, "invalid bond")
	ErrBondTooSmall          = errorsmod.Register(ModuleName, 7, "bond below the minimum worker bond")
	ErrWorkerExists          = errorsmod.Register(ModuleName, 8, "worker already registered")
	ErrWorkerNotFound        = errorsmod.Register(ModuleName, 9, "worker not found")
	ErrWorkerNotActive       = errorsmod.Register(ModuleName, 10, "worker is not active")
	ErrNoShardAvailable      = errorsmod.Register(ModuleName, 11, "no ACTIVE shard of the worker's classes has room")
	ErrShardNotFound         = errorsmod.Register(ModuleName, 12, "shard not found")
	ErrNoActiveShard         = errorsmod.Register(ModuleName, 13, "no ACTIVE shard serves the class")
	ErrCapacityExceeded      = errorsmod.Register(ModuleName, 14, "in-flight units would exceed the worker's capacity")
	ErrCapacityBelowInFlight = errorsmod.Register(ModuleName, 15, "capacity below the units in flight")
	ErrWorkerNotInShard      = errorsmod.Register(ModuleName, 16, "worker is not attached to the shard")
	ErrInvalidUnits          = errorsmod.Register(ModuleName, 17, "invalid units")
	ErrCounterUnderflow      = errorsmod.Register(ModuleName, 18, "units to remove exceed the units recorded")
	ErrInvalidOutcome        = errorsmod.Register(ModuleName, 19, "invalid outcome")
	ErrInvalidFraction       = errorsmod.Register(ModuleName, 20, "invalid slash fraction")
	ErrShardNotOpen          = errorsmod.Register(ModuleName, 21, "shard is retired")
	ErrOverflow              = errorsmod.Register(ModuleName, 22, "counter overflow")
	ErrReleasePending        = errorsmod.Register(ModuleName, 23, "bond release postponed until the worker's last reward epoch closes")
	ErrInvalidScore          = errorsmod.Register(ModuleName, 24, "worker score above 1_000_000 ppm")
	// ErrQuarantinedItemNotFound: MsgRetryQuarantined or MsgDropQuarantined
	// names no quarantined item.
	ErrQuarantinedItemNotFound = errorsmod.Register(ModuleName, 25, "no such quarantined item")
	// ErrQuarantineStale: the quarantined item no longer belongs in its step
	// (e.g. the worker left meanwhile); it cannot be retried, only dropped.
	ErrQuarantineStale = errorsmod.Register(ModuleName, 26, "quarantined item no longer belongs in its step")
	// ErrNotDroppable: the quarantined item holds nothing a drop could
	// release (a shard check); it can only be retried.
	ErrNotDroppable = errorsmod.Register(ModuleName, 27, "quarantined item cannot be dropped, only retried")
	// ErrInvalidEndpoint: a worker's data-plane endpoint is not an absolute
	// http(s) URL with a host, carries user info or a fragment, or is too long.
	ErrInvalidEndpoint = errorsmod.Register(ModuleName, 28, "invalid worker endpoint")
)

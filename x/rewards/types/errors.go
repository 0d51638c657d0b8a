package types

import errorsmod "cosmossdk.io/errors"

// x/rewards errors. Codes start at 2; 1 is reserved.
var (
	ErrUnauthorized      = errorsmod.Register(ModuleName, 2, "unauthorized: signer is not the module authority")
	ErrInvalidParams     = errorsmod.Register(ModuleName, 3, "invalid params")
	ErrNothingToClaim    = errorsmod.Register(ModuleName, 4, "nothing to claim")
	ErrInvalidFee        = errorsmod.Register(ModuleName, 5, "invalid fee")
	ErrInsufficientFunds = errorsmod.Register(ModuleName, 6, "insufficient funds for the fee")
	ErrInvalidRefund     = errorsmod.Register(ModuleName, 7, "invalid refund fraction")
	ErrInvalidSlash      = errorsmod.Register(ModuleName, 8, "invalid slash")
	ErrInsolvent         = errorsmod.Register(ModuleName, 9, "rewards account cannot cover what it owes")
	ErrInvalidAddress    = errorsmod.Register(ModuleName, 10, "invalid address")
	ErrInvalidFunding    = errorsmod.Register(ModuleName, 11, "invalid pool funding")
	ErrFunderCannotPay   = errorsmod.Register(ModuleName, 12, "insufficient funds to fund the pool")
	ErrAccounting        = errorsmod.Register(ModuleName, 13, "reward accounting does not balance")
	// ErrQuarantinedItemNotFound: MsgRetryQuarantined or MsgDropQuarantined
	// names no quarantined item.
	ErrQuarantinedItemNotFound = errorsmod.Register(ModuleName, 14, "no such quarantined item")
	// ErrQuarantineStale: the quarantined item has nothing left for its step
	// (e.g. every worker of the epoch settled already); it cannot be
	// retried, only dropped.
	ErrQuarantineStale = errorsmod.Register(ModuleName, 15, "quarantined item no longer belongs in its step")
)

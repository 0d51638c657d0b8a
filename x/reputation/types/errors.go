package types

import errorsmod "cosmossdk.io/errors"

// x/reputation errors. Codes start at 2; 1 is reserved.
var (
	ErrUnauthorized   = errorsmod.Register(ModuleName, 2, "unauthorized: signer is not the module authority")
	ErrInvalidParams  = errorsmod.Register(ModuleName, 3, "invalid params")
	ErrUnknownOutcome = errorsmod.Register(ModuleName, 4, "unknown outcome")
	ErrInvalidAddress = errorsmod.Register(ModuleName, 5, "invalid address")
)

package types

import (
	errorsmod "cosmossdk.io/errors"

	sdk "github.com/cosmos/cosmos-sdk/types"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
	govtypes "github.com/cosmos/cosmos-sdk/x/gov/types"
)

var _ sdk.HasValidateBasic = (*MsgUpdateParams)(nil)

// ValidateBasic checks the params without state. Governance calls it when a
// proposal is submitted, so a proposal carrying invalid params is refused at
// once instead of passing a vote and failing at execution. A msg from any
// other signer is left to the msg server, which refuses it as unauthorized
// whatever its params. The msg server checks the params again.
func (m *MsgUpdateParams) ValidateBasic() error {
	if m.Authority != GovAuthority() {
		return nil
	}
	if err := m.Params.Validate(); err != nil {
		return errorsmod.Wrap(ErrInvalidParams, err.Error())
	}
	return nil
}

// GovAuthority is the address of the gov module account, the authority of
// MsgUpdateParams in the repshard app.
func GovAuthority() string { return authtypes.NewModuleAddress(govtypes.ModuleName).String() }

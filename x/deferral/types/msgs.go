package types

import (
	errorsmod "cosmossdk.io/errors"

	sdk "github.com/cosmos/cosmos-sdk/types"
)

var _ sdk.HasValidateBasic = (*MsgUpdateParams)(nil)

// ValidateBasic checks the params without state. Governance calls it when a
// proposal is submitted, so a proposal carrying invalid params is refused at
// once instead of passing a vote and failing at execution. The msg server
// checks them again, with the authority.
func (m *MsgUpdateParams) ValidateBasic() error {
	if err := m.Params.Validate(); err != nil {
		return errorsmod.Wrap(ErrInvalidParams, err.Error())
	}
	return nil
}

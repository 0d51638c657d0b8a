package types

// DefaultGenesis returns the genesis state with default params.
func DefaultGenesis() *GenesisState {
	return &GenesisState{Params: DefaultParams()}
}

// Validate checks the genesis state.
func (gs GenesisState) Validate() error {
	return gs.Params.Validate()
}

//go:build !previous_release

package app

// PreviousReleaseBuild is false: this binary registers every upgrade of
// Upgrades. See release_previous.go.
const PreviousReleaseBuild = false

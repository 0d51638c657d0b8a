//go:build previous_release

package app

// PreviousReleaseBuild is true in a binary built with the previous_release
// tag (go build -tags previous_release ./cmd/repshardd): it stands for the
// release before the newest upgrade of Upgrades. It does not register that
// upgrade, so a chain that schedules it halts at its height with "UPGRADE
// NEEDED", and it starts a new chain at the module versions that release had
// (the upgrade's VersionsBefore). The end-to-end upgrade test
// (testutil/e2e/upgrade_test.go) runs the localnet on this binary and
// upgrades it to the normal build of the same tree. Never ship it.
const PreviousReleaseBuild = true

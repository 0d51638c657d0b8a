package worker

import (
	"errors"
	"fmt"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"

	"github.com/cosmos/cosmos-sdk/crypto/keyring"
	cosmossecp256k1 "github.com/cosmos/cosmos-sdk/crypto/keys/secp256k1"
)

// SealKey is the secp256k1 private key of a keyring record, the key that
// opens the payloads sealed to its account (package sealed).
//
// It reads the record's local key the way the keyring's own export does,
// without an armor round trip. That works for the backends that hold the
// key itself: test, file, os, kwallet, pass, memory. A Ledger, offline or
// multisig record has no private key on this machine: such a worker cannot
// open sealed payloads (it still signs and runs plain ones).
func SealKey(rec *keyring.Record) (*secp256k1.PrivateKey, error) {
	if rec == nil {
		return nil, errors.New("no key")
	}
	local := rec.GetLocal()
	if local == nil || local.PrivKey == nil {
		return nil, fmt.Errorf("key %q is a %s key, whose private key is not in the keyring", rec.Name, rec.GetType())
	}
	priv, ok := local.PrivKey.GetCachedValue().(*cosmossecp256k1.PrivKey)
	if !ok || len(priv.Key) != secp256k1.PrivKeyBytesLen {
		return nil, fmt.Errorf("key %q is not a secp256k1 key", rec.Name)
	}
	return secp256k1.PrivKeyFromBytes(priv.Key), nil
}

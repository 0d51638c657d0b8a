package addrmemo_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	addresscodec "github.com/cosmos/cosmos-sdk/codec/address"

	"github.com/repshard/repshard/internal/addrmemo"
)

// The memo returns what the codec returns, for valid and invalid strings,
// whether remembered or not, past its bound, and never lets a caller change
// what it remembers.
func TestCodecMatchesTheWrappedCodec(t *testing.T) {
	plain := addresscodec.NewBech32Codec("rep")
	memo := addrmemo.New(plain)
	var inputs []string
	for i := 0; i < 5_000; i++ {
		s, err := plain.BytesToString([]byte(fmt.Sprintf("address number %05d", i)))
		require.NoError(t, err)
		inputs = append(inputs, s)
	}
	inputs = append(inputs, "", "rep1invalid", "cosmos1qypqxpq9qcrsszg2pvxq6rs0zqg3yyc5lzv7xu", inputs[0][:len(inputs[0])-1]+"x")
	for round := 0; round < 2; round++ {
		for _, s := range inputs {
			want, wantErr := plain.StringToBytes(s)
			got, gotErr := memo.StringToBytes(s)
			if wantErr != nil {
				require.EqualError(t, gotErr, wantErr.Error(), s)
			} else {
				require.NoError(t, gotErr, s)
			}
			require.Equal(t, want, got, s)
			if len(got) > 0 {
				got[0]++ // the caller's copy
			}
		}
	}
	str, err := memo.BytesToString([]byte("address number 00001"))
	require.NoError(t, err)
	require.Equal(t, inputs[1], str)
}

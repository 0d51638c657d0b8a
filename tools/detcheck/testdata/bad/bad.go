package bad

import (
	"math/rand"
	"time"
)

func Everything(m map[string]int) float64 {
	go func() {}()
	_ = time.Now()
	for k := range m {
		_ = k
	}
	return rand.Float64() * 2
}

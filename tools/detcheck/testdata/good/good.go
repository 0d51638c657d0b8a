package good

import "sort"

func Sorted(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m { // detcheck:ok keys are sorted below
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

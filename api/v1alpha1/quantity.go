package v1alpha1

import (
	"errors"
	"math"
	"regexp"
	"strconv"
	"strings"
)

// maxCPUs bounds a CPU count: far more than any node has, and far below what overflows the
// billionths of a CPU swarm counts in.
const maxCPUs = 1_000_000

var cpuCount = regexp.MustCompile(`^[0-9]+(\.[0-9]{1,9})?$`)

// ParseCPUs reads a decimal CPU count ("0.5", "2") as the billionths of a CPU swarm takes, exactly.
func ParseCPUs(s string) (int64, error) {
	if !cpuCount.MatchString(s) {
		return 0, errors.New(`is not a decimal number of CPUs (e.g. "0.5")`)
	}
	whole, frac, _ := strings.Cut(s, ".")
	n, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || n > maxCPUs {
		return 0, errors.New("is more CPUs than any node has (at most 1000000)")
	}
	f, _ := strconv.ParseInt((frac + "000000000")[:9], 10, 64)
	nano := n*1e9 + f
	if nano == 0 {
		return 0, errors.New("must be more than 0")
	}
	return nano, nil
}

// byteSize is the syntax of Docker's byte sizes (go-units' RAMInBytes, which does not check the
// range of what it computes), with "Gi"-style units too.
var byteSize = regexp.MustCompile(`^([0-9]+(?:\.[0-9]+)?) ?([kKmMgGtTpP])?[iI]?[bB]?$`)

// ByteSizePattern is the syntax of the byte sizes ParseMemory reads, for the JSON Schema.
func ByteSizePattern() string { return byteSize.String() }

// ParseMemory reads a byte size as Docker does ("256m", "1.5G", "1Gi", "512"), in binary units.
func ParseMemory(s string) (int64, error) {
	m := byteSize.FindStringSubmatch(s)
	if m == nil {
		return 0, errors.New(`is not a byte size (e.g. "256m", "1.5G", "1Gi")`)
	}
	f, _ := strconv.ParseFloat(m[1], 64)
	shift := strings.Index("kmgtp", strings.ToLower(m[2])) + 1 // 0 without a unit
	if m[2] == "" {
		shift = 0
	}
	if f*math.Pow(1024, float64(shift)) >= 1<<62 {
		return 0, errors.New("is more than 4 EiB")
	}
	v := int64(f * math.Pow(1024, float64(shift)))
	if v <= 0 {
		return 0, errors.New("must be at least 1 byte")
	}
	return v, nil
}

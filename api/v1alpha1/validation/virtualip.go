package validation

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/swarmgate/swarmgate/api/field"
	"github.com/swarmgate/swarmgate/api/v1alpha1"
)

func validateVirtualIP(v *v1alpha1.VirtualIP) field.ErrorList {
	s := &v.Spec
	p := field.NewPath("spec")
	var errs field.ErrorList

	if s.Address == "" {
		errs = append(errs, field.Required(p.Child("address"), `the virtual IP with its prefix length, e.g. "172.22.1.5/24"`))
	} else if prefix, err := netip.ParsePrefix(s.Address); err != nil {
		errs = append(errs, field.Invalid(p.Child("address"), `is not an address with a prefix length (e.g. "172.22.1.5/24")`))
	} else if a := prefix.Addr(); a.IsUnspecified() || a.IsLoopback() || a.IsMulticast() {
		errs = append(errs, field.Invalid(p.Child("address"), "is not a unicast address a node can hold"))
	} else if a.Is6() && s.Version == 2 {
		errs = append(errs, field.Invalid(p.Child("address"), "is IPv6, which needs VRRP version 3"))
	}
	errs = append(errs, validateInterface(p.Child("interface"), s.Interface)...)
	if s.VirtualRouterID < v1alpha1.MinVirtualRouterID || s.VirtualRouterID > v1alpha1.MaxVirtualRouterID {
		errs = append(errs, field.Invalid(p.Child("virtualRouterID"), fmt.Sprintf("must be %d to %d", v1alpha1.MinVirtualRouterID, v1alpha1.MaxVirtualRouterID)))
	}

	switch s.Version {
	case 2, 3:
		errs = append(errs, validateAdvertInterval(p.Child("advertInterval"), s.AdvertInterval, s.Version)...)
	default:
		errs = append(errs, field.Invalid(p.Child("version"), "must be 2 or 3"))
	}

	switch {
	case len(s.Nodes) == 0 && s.Zone == "":
		errs = append(errs, field.Required(p.Child("nodes"), "the nodes that may hold the address, or a zone"))
	case len(s.Nodes) > 0 && s.Zone != "":
		errs = append(errs, field.Forbidden(p.Child("zone"), "set either nodes or zone, not both"))
	case s.Zone != "":
		errs = append(errs, validateDNSLabel(p.Child("zone"), s.Zone)...)
	}
	hosts := map[string]bool{}
	priorities := map[int32]string{}
	for i, n := range s.Nodes {
		np := p.Child("nodes").Index(i)
		errs = append(errs, validateNodeHostname(np.Child("hostname"), n.Hostname)...)
		if hosts[n.Hostname] {
			errs = append(errs, field.Duplicate(np.Child("hostname"), ""))
		}
		hosts[n.Hostname] = true
		if n.Priority < v1alpha1.MinPriority || n.Priority > v1alpha1.MaxPriority {
			errs = append(errs, field.Invalid(np.Child("priority"), fmt.Sprintf("must be %d to %d (255 is reserved for the address owner)", v1alpha1.MinPriority, v1alpha1.MaxPriority)))
		} else if other, ok := priorities[n.Priority]; ok {
			errs = append(errs, field.Duplicate(np.Child("priority"), "node "+other+" has it too; priorities decide which node holds the address and must differ"))
		} else {
			priorities[n.Priority] = n.Hostname
		}
		if n.Interface != "" {
			errs = append(errs, validateInterface(np.Child("interface"), n.Interface)...)
		}
	}

	if s.PreemptDelay != "" {
		if s.Preempt != nil && !*s.Preempt {
			errs = append(errs, field.Forbidden(p.Child("preemptDelay"), "it only applies when preempt is true"))
		} else if d, err := time.ParseDuration(string(s.PreemptDelay)); err != nil || d < 0 || d > 1000*time.Second {
			errs = append(errs, field.Invalid(p.Child("preemptDelay"), "must be a duration from 0s to 1000s"))
		}
	}
	if s.Auth != nil {
		ap := p.Child("auth")
		switch {
		case s.Version == 3:
			errs = append(errs, field.Forbidden(ap, "VRRP version 3 has no authentication"))
		case len(s.Auth.Password) > 8:
			errs = append(errs, field.Errorf(ap.Child("password"), "is %d characters; keepalived uses only the first 8 and silently drops the rest", len(s.Auth.Password)))
		case !vrrpPassword.MatchString(s.Auth.Password):
			errs = append(errs, field.Errorf(ap.Child("password"), "must be 1 to 8 characters: letters, digits and . _ + = / : , %% ^ * -"))
		}
	}
	if s.TrackGateway != nil {
		tp := p.Child("trackGateway")
		errs = append(errs, validateDNSLabel(tp.Child("name"), s.TrackGateway.Name)...)
		if s.TrackGateway.Listener != "" {
			errs = append(errs, validateDNSLabel(tp.Child("listener"), string(s.TrackGateway.Listener))...)
		}
	}
	errs = append(errs, validatePort(p.Child("statusPort"), s.StatusPort)...)
	return append(errs, validateImage(p.Child("image"), s.Image)...)
}

func validateInterface(p *field.Path, name string) field.ErrorList {
	if !ifaceName.MatchString(name) || name == "." || name == ".." {
		return field.ErrorList{field.Invalid(p, "is not a valid network interface name (1 to 15 letters, digits, '_', '.', '-')")}
	}
	return nil
}

// validateAdvertInterval applies the VRRP limits: version 2 counts whole seconds in 8 bits (RFC 3768),
// version 3 counts centiseconds in 12 bits (RFC 5798).
func validateAdvertInterval(p *field.Path, v v1alpha1.Duration, version int32) field.ErrorList {
	d, err := time.ParseDuration(string(v))
	if err != nil {
		return field.ErrorList{field.Invalid(p, `is not a valid duration (e.g. "1s")`)}
	}
	if version == 2 && (d < time.Second || d > 255*time.Second || d%time.Second != 0) {
		return field.ErrorList{field.Invalid(p, "must be whole seconds from 1s to 255s with VRRP version 2 (use version 3 for sub-second adverts)")}
	}
	if version == 3 && (d < 10*time.Millisecond || d > 4095*10*time.Millisecond || d%(10*time.Millisecond) != 0) {
		return field.ErrorList{field.Invalid(p, "must be hundredths of a second from 10ms to 40.95s with VRRP version 3")}
	}
	return nil
}

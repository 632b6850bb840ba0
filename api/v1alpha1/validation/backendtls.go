package validation

import (
	"strings"

	"github.com/swarmgate/swarmgate/api/field"
	"github.com/swarmgate/swarmgate/api/v1alpha1"
)

func validateBackendTLSPolicy(bp *v1alpha1.BackendTLSPolicy) field.ErrorList {
	p := field.NewPath("spec")
	var errs field.ErrorList
	if len(bp.Spec.TargetRefs) == 0 {
		errs = append(errs, field.Required(p.Child("targetRefs"), "at least one service"))
	}
	errs = append(errs, tooMany(p.Child("targetRefs"), len(bp.Spec.TargetRefs), 16)...)
	targets := map[string]bool{}
	for i, t := range bp.Spec.TargetRefs {
		tp := p.Child("targetRefs").Index(i)
		if t.Group != "" || t.Kind != "Service" {
			errs = append(errs, field.Invalid(tp.Child("kind"), "is not Service (group \"\"), the kind a BackendTLSPolicy targets"))
		}
		switch {
		case t.Name == "":
			errs = append(errs, field.Required(tp.Child("name"), "the name of a swarm service"))
		case len(t.Name) > v1alpha1.MaxServiceNameLength || !serviceName.MatchString(t.Name):
			errs = append(errs, field.Invalid(tp.Child("name"), "is not a valid service name"))
		case targets[t.Name]:
			errs = append(errs, field.Duplicate(tp.Child("name"), ""))
		}
		targets[t.Name] = true
	}
	v := &bp.Spec.Validation
	vp := p.Child("validation")
	switch {
	case len(v.CACertificateRefs) == 0 && v.WellKnownCACertificates == "":
		errs = append(errs, field.Required(vp, "caCertificateRefs or wellKnownCACertificates: System"))
	case len(v.CACertificateRefs) > 0 && v.WellKnownCACertificates != "":
		errs = append(errs, field.Forbidden(vp.Child("wellKnownCACertificates"), "goes without caCertificateRefs"))
	case len(v.CACertificateRefs) > 1:
		errs = append(errs, field.Invalid(vp.Child("caCertificateRefs"), "names more than one secret: nginx reads one CA file per backend; put the CAs in one secret"))
	case v.WellKnownCACertificates != "":
		errs = append(errs, oneOf(vp.Child("wellKnownCACertificates"), v.WellKnownCACertificates, v1alpha1.WellKnownCACertificatesSystem)...)
	}
	for i, ref := range v.CACertificateRefs {
		rp := vp.Child("caCertificateRefs").Index(i)
		if ref.Group != "" || ref.Kind != "Secret" {
			errs = append(errs, field.Invalid(rp.Child("kind"), "is not Secret (group \"\"): the CAs are a swarm secret"))
		}
		if len(ref.Name) > v1alpha1.MaxSecretNameLength || !secretName.MatchString(ref.Name) {
			errs = append(errs, field.Invalid(rp.Child("name"), "is not a swarm secret name"))
		}
	}
	switch {
	case v.Hostname == "":
		errs = append(errs, field.Required(vp.Child("hostname"), "the name the backends' certificates hold"))
	case strings.HasPrefix(string(v.Hostname), "*"):
		errs = append(errs, field.Invalid(vp.Child("hostname"), "is a wildcard; the name sent and verified is a precise one"))
	default:
		errs = append(errs, validateHostname(vp.Child("hostname"), v.Hostname, false)...)
	}
	return errs
}

package controllers

import (
	"context"
	"fmt"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"

	"github.com/registry-auth-operator/registry-auth-operator/api/v1alpha1"
	"github.com/registry-auth-operator/registry-auth-operator/internal/render"
)

// TestDefaultRegistryImage: a RegistryAuth without spec.registry.image runs
// the operator's --registry-image (the API server stores no default that
// would pin it); one that names an image runs that.
func TestDefaultRegistryImage(t *testing.T) {
	ns := newNamespace(t)
	createClassic(t, ns, "img")
	pinned := classicRA(ns, "pinned")
	pinned.Spec.Registry.Image = "registry:3.1.2"
	createWithUsers(t, pinned)
	for name, want := range map[string]string{"img": testOpts.RegistryImage, "pinned": "registry:3.1.2"} {
		eventually(t, 20*time.Second, func() error {
			d := &appsv1.Deployment{}
			if err := k8s.Get(context.Background(), key(ns, name), d); err != nil {
				return err
			}
			for _, c := range d.Spec.Template.Spec.Containers {
				if c.Name == render.ContainerRegistry && c.Image == want {
					return nil
				}
			}
			return fmt.Errorf("%s: no registry container with image %s", name, want)
		})
	}
	if got := get(t, ns, "img", &v1alpha1.RegistryAuth{}).Spec.Registry.Image; got != "" {
		t.Errorf("spec.registry.image defaulted to %q at admission", got)
	}
}

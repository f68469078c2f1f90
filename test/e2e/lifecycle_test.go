package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

type podState struct {
	UID      string
	Restarts int
}

// registryPods returns the registry's pods by name, with UID and restarts.
func (j *journey) registryPods(t *testing.T) map[string]podState {
	t.Helper()
	sel, err := j.jsonpath(nsDemo, "deployment/"+raName, "{.spec.selector.matchLabels}")
	if err != nil {
		t.Fatal(err)
	}
	var labels map[string]string
	if err := json.Unmarshal([]byte(sel), &labels); err != nil {
		t.Fatalf("selector %q: %v", sel, err)
	}
	var parts []string
	for k, v := range labels {
		parts = append(parts, k+"="+v)
	}
	out := j.kubeOK(t, "-n", nsDemo, "get", "pods", "-l", strings.Join(parts, ","), "-o", "json")
	var list struct {
		Items []struct {
			Metadata struct{ Name, UID string }
			Status   struct {
				ContainerStatuses []struct{ RestartCount int } `json:"containerStatuses"`
			}
		}
	}
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatal(err)
	}
	pods := map[string]podState{}
	for _, p := range list.Items {
		s := podState{UID: p.Metadata.UID}
		for _, c := range p.Status.ContainerStatuses {
			s.Restarts += c.RestartCount
		}
		pods[p.Metadata.Name] = s
	}
	if len(pods) == 0 {
		t.Fatal("no registry pods found")
	}
	return pods
}

// passwordReload: a new password in the user's Secret is accepted and the
// old one refused, by the same pods, with no restart.
func (j *journey) passwordReload(t *testing.T) {
	before := j.registryPods(t)
	const newPass = "badmin-rotated"
	j.apply(t, map[string]any{
		"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
		"metadata":   map[string]any{"name": "demo-admin", "namespace": nsDemo},
		"stringData": map[string]string{"password": newPass},
	})
	start := time.Now()
	base := "https://" + j.nodeHost
	eventually(t, 3*time.Minute, "the new password to work and the old to be refused", func() error {
		c, err := getV2(exe, j.ca, base)
		if err != nil {
			return err
		}
		if s, err := token(exe, j.ca, c, "admin", newPass, "repository:e2e/pause:pull"); err != nil || s != 200 {
			return fmt.Errorf("new password: %d %v", s, err)
		}
		if s, err := token(exe, j.ca, c, "admin", adminPass, "repository:e2e/pause:pull"); err != nil || s != 401 {
			return fmt.Errorf("old password: %d %v", s, err)
		}
		return nil
	})
	j.record(t, "password change in a Secret to live in the auth server", time.Since(start))
	sk := newSkopeo(t, j.nodeHost, j.caPEM)
	// The polling above was refused until the reload landed, and each refusal
	// spends this client's failure allowance for admin (per (user, client):
	// 5, then one per 10 s). A 429 here would be that limit, which is not
	// what this step checks, so the login may wait for the allowance.
	eventually(t, time.Minute, "skopeo login with the new password", func() error {
		return sk.login(j.nodeHost, "admin", newPass)
	})
	if after := j.registryPods(t); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatalf("pods changed across the password change:\nbefore %v\nafter  %v", before, after)
	}
}

type owned struct{ kind, name string }

// garbageCollection: deleting the RegistryAuth removes every object that
// names it as owner, by Kubernetes' garbage collector; the claim with the
// images is not among them (deletionPolicy Retain, the default) and stays.
func (j *journey) garbageCollection(t *testing.T) {
	uid, err := j.jsonpath(nsDemo, "registryauth/"+raName, "{.metadata.uid}")
	if err != nil || uid == "" {
		t.Fatalf("uid: %q %v", uid, err)
	}
	kinds := "deployments,replicasets,services,secrets,configmaps,persistentvolumeclaims"
	find := func() ([]owned, error) {
		out, err := j.kube("", "-n", nsDemo, "get", kinds, "-o", "json")
		if err != nil {
			return nil, err
		}
		var list struct {
			Items []struct {
				Kind     string
				Metadata struct {
					Name            string
					OwnerReferences []struct{ UID string } `json:"ownerReferences"`
				}
			}
		}
		if err := json.Unmarshal([]byte(out), &list); err != nil {
			return nil, err
		}
		var res []owned
		for _, o := range list.Items {
			for _, r := range o.Metadata.OwnerReferences {
				if r.UID == uid {
					res = append(res, owned{o.Kind, o.Metadata.Name})
				}
			}
		}
		return res, nil
	}
	objs, err := find()
	if err != nil {
		t.Fatal(err)
	}
	kindsSeen := map[string]bool{}
	for _, o := range objs {
		kindsSeen[o.kind] = true
	}
	for _, k := range []string{"Deployment", "Service", "Secret", "ConfigMap"} {
		if !kindsSeen[k] {
			t.Fatalf("no %s owned by the RegistryAuth among %v", k, objs)
		}
	}
	if kindsSeen["PersistentVolumeClaim"] {
		t.Fatalf("the claim is owned by the RegistryAuth (deletionPolicy Retain is the default): %v", objs)
	}
	claimUID := j.kubeOK(t, "-n", nsDemo, "get", "pvc", raName+"-data", "-o", "jsonpath={.metadata.uid}")
	t.Logf("owned before delete: %v", objs)
	pods := j.registryPods(t)

	j.kubeOK(t, "-n", nsDemo, "delete", "registryauth", raName, "--wait=false")
	start := time.Now()
	eventually(t, 3*time.Minute, "owned objects to be garbage-collected", func() error {
		var left []string
		for _, o := range objs {
			if _, err := j.kube("", "-n", nsDemo, "get", o.kind, o.name); err == nil {
				left = append(left, o.kind+"/"+o.name)
			}
		}
		for name := range pods {
			if _, err := j.kube("", "-n", nsDemo, "get", "pod", name); err == nil {
				left = append(left, "Pod/"+name)
			}
		}
		if len(left) > 0 {
			return fmt.Errorf("still there: %v", left)
		}
		return nil
	})
	j.record(t, "RegistryAuth delete to owned objects gone", time.Since(start))
	// The user's own Secrets are not the RegistryAuth's: they stay; so does
	// the retained claim, for a RegistryAuth of the same name to adopt.
	j.kubeOK(t, "-n", nsDemo, "get", "secret", "demo-admin", "demo-reader")
	if uid := j.kubeOK(t, "-n", nsDemo, "get", "pvc", raName+"-data", "-o", "jsonpath={.metadata.uid}"); uid != claimUID {
		t.Errorf("the retained claim is gone or replaced (uid %q, was %q)", uid, claimUID)
	}
}

// nodeTrustCleanup: with the registry gone, the operator drops its entry
// from the trust ConfigMap and the agent removes the CA from the node.
func (j *journey) nodeTrustCleanup(t *testing.T) {
	dir := filepath.Join(j.certsD, j.nodeHost)
	eventually(t, 2*time.Minute, "node-trust to remove "+dir, func() error {
		if _, err := os.Stat(dir); err == nil {
			return fmt.Errorf("%s still exists", dir)
		}
		return nil
	})
}

package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/registry-auth-operator/registry-auth-operator/api/v1alpha1"
)

const (
	benchNamespace = "bench"
	noiseNamespace = "noise"
)

func (cl *cluster) setup(ctx context.Context) error {
	for _, ns := range []string{operatorNamespace, benchNamespace, noiseNamespace} {
		if err := cl.c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
			return err
		}
	}
	return nil
}

// registry is the classic setup: two users with plaintext passwords (the
// operator hashes them), an admin rule and a pull rule.
func registry(i int) (*v1alpha1.RegistryAuth, []*corev1.Secret) {
	name := fmt.Sprintf("r%04d", i)
	var secrets []*corev1.Secret
	var users []v1alpha1.User
	for _, u := range []string{"admin", "reader"} {
		s := &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: benchNamespace, Name: name + "-" + u},
			Data:       map[string][]byte{"password": []byte(u + "-pw-" + name)},
		}
		secrets = append(secrets, s)
		users = append(users, v1alpha1.User{Name: u, PasswordSecretRef: v1alpha1.SecretKeyRef{Name: s.Name}})
	}
	ra := &v1alpha1.RegistryAuth{
		ObjectMeta: metav1.ObjectMeta{Namespace: benchNamespace, Name: name},
		Spec: v1alpha1.RegistryAuthSpec{Auth: v1alpha1.AuthSpec{
			Users: users,
			ACL: []v1alpha1.ACLRule{
				{Match: v1alpha1.ACLMatch{Account: ptr.To("admin")}, Actions: []string{"*"}},
				{Match: v1alpha1.ACLMatch{Account: ptr.To("/.+/")}, Actions: []string{"pull"}},
			},
		}},
	}
	return ra, secrets
}

// parallel runs f(i) for i in [from, to) on 16 workers.
func parallel(from, to int, f func(i int) error) error {
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	next := make(chan int)
	for range 16 {
		wg.Go(func() {
			for i := range next {
				if err := f(i); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			}
		})
	}
	for i := from; i < to; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	return first
}

func (cl *cluster) createRegistries(ctx context.Context, from, to int) error {
	return parallel(from, to, func(i int) error {
		ra, secrets := registry(i)
		for _, s := range secrets {
			if err := cl.c.Create(ctx, s); err != nil {
				return err
			}
		}
		return cl.c.Create(ctx, ra)
	})
}

// createNoise creates Secrets and ConfigMaps no registry refers to, each
// about 1 KiB, in a namespace of their own.
func (cl *cluster) createNoise(ctx context.Context, secrets, configMaps int) error {
	payload := strings.Repeat("x", 1024)
	if err := parallel(0, secrets, func(i int) error {
		return cl.c.Create(ctx, &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: noiseNamespace, Name: fmt.Sprintf("noise-%05d", i), Labels: map[string]string{"app": "noise"}},
			Data:       map[string][]byte{"data": []byte(payload)},
		})
	}); err != nil {
		return err
	}
	return parallel(0, configMaps, func(i int) error {
		return cl.c.Create(ctx, &corev1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{Namespace: noiseNamespace, Name: fmt.Sprintf("noise-%05d", i), Labels: map[string]string{"app": "noise"}},
			Data:       map[string]string{"data": payload},
		})
	})
}

// rendered counts the registries whose current generation rendered its config.
func (cl *cluster) rendered(ctx context.Context) (int, error) {
	var list v1alpha1.RegistryAuthList
	if err := cl.c.List(ctx, &list, client.InNamespace(benchNamespace)); err != nil {
		return 0, err
	}
	n := 0
	for _, ra := range list.Items {
		c := apimeta.FindStatusCondition(ra.Status.Conditions, v1alpha1.ConditionConfigRendered)
		if c != nil && c.Status == metav1.ConditionTrue && c.ObservedGeneration == ra.Generation {
			n++
		}
	}
	return n, nil
}

// waitSettled waits until all n registries rendered their current
// generation and the operator's queues are empty.
func (cl *cluster) waitSettled(ctx context.Context, op *operator, n int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	last := -1
	for time.Now().Before(deadline) {
		got, err := cl.rendered(ctx)
		if err != nil {
			return err
		}
		if got != last {
			fmt.Fprintf(os.Stderr, "  %s rendered %d/%d\n", time.Now().Format("15:04:05"), got, n)
			last = got
		}
		if got == n && op.idle() {
			return nil
		}
		time.Sleep(time.Second)
	}
	return fmt.Errorf("not settled after %s", timeout)
}

// waitRestarted waits until a fresh operator reconciled every registry once
// and its queues are empty.
func (cl *cluster) waitRestarted(ctx context.Context, op *operator, n int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if op.reconciles() >= float64(n) && op.idle() {
			return nil
		}
		time.Sleep(250 * time.Millisecond)
	}
	return fmt.Errorf("restart not settled after %s", timeout)
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	return strings.Join(f[:3], " ")
}

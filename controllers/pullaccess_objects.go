package controllers

import (
	"context"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/registry-auth-operator/registry-auth-operator/api/v1alpha1"
	"github.com/registry-auth-operator/registry-auth-operator/internal/authconfig"
	"github.com/registry-auth-operator/registry-auth-operator/internal/pullaccess"
	"github.com/registry-auth-operator/registry-auth-operator/internal/render"
)

// loadState reads the robots Secret beside the registry.
func (r *PullAccessReconciler) loadState(ctx context.Context, ra *v1alpha1.RegistryAuth) (*pullaccess.State, *corev1.Secret, error) {
	s := &corev1.Secret{}
	err := r.Cache.Get(ctx, types.NamespacedName{Namespace: ra.Namespace, Name: pullaccess.StateSecretName(ra)}, s)
	if apierrors.IsNotFound(err) {
		st, _ := pullaccess.ParseState(nil)
		return st, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	st, err := pullaccess.ParseState(s.Data[pullaccess.StateKey])
	if err != nil {
		// Unreadable state: starting over issues new credentials, which the
		// Secrets then hand out; nothing is left half-valid.
		st, _ = pullaccess.ParseState(nil)
	}
	return st, s, nil
}

// saveState writes the state when its bytes changed. The robots Secret is
// owned by the registry: the registry's controller re-renders the auth
// config when it changes, and garbage collection removes it with the registry.
func (r *PullAccessReconciler) saveState(ctx context.Context, ra *v1alpha1.RegistryAuth, live *corev1.Secret, st *pullaccess.State) error {
	data, err := st.Marshal()
	if err != nil {
		return err
	}
	if live != nil && string(live.Data[pullaccess.StateKey]) == string(data) {
		return nil
	}
	if live == nil {
		s := &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{
				Name: pullaccess.StateSecretName(ra), Namespace: ra.Namespace,
				Labels:          stateLabels(ra),
				OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(ra, v1alpha1.GroupVersion.WithKind("RegistryAuth"))},
			},
			Data: map[string][]byte{pullaccess.StateKey: data},
		}
		return r.record(s, r.Client.Create(ctx, s))
	}
	s := live.DeepCopy()
	s.Data = map[string][]byte{pullaccess.StateKey: data}
	// Update carries the resourceVersion: a concurrent writer makes it fail,
	// not lose an update.
	return r.record(s, r.Client.Update(ctx, s))
}

func stateLabels(ra *v1alpha1.RegistryAuth) map[string]string {
	l := render.Labels(ra, "pull-access")
	l[pullaccess.LabelKind] = pullaccess.KindRobots
	l[pullaccess.LabelRegistryUID] = string(ra.UID)
	return l
}

// pullHosts are the addresses an image reference may use: the node URL
// (kubelets), the in-cluster name (Pods, builds) and the external one.
func pullHosts(ra *v1alpha1.RegistryAuth) []string {
	var out []string
	for _, u := range []string{ra.Status.URLs.Node, ra.Status.URLs.InCluster, ra.Status.URLs.External} {
		h := strings.TrimPrefix(strings.TrimPrefix(u, "https://"), "http://")
		if h != "" {
			out = append(out, h)
		}
	}
	return out
}

// authUsers reports which users the rendered auth config holds.
func (r *PullAccessReconciler) authUsers(ctx context.Context, ra *v1alpha1.RegistryAuth) func(string) bool {
	s := &corev1.Secret{}
	if err := r.Client.Get(ctx, types.NamespacedName{Namespace: ra.Namespace, Name: render.NamesFor(ra).AuthConfig}, s); err != nil {
		return func(string) bool { return false }
	}
	cfg, _, err := authconfig.Parse(s.Data[authconfig.ConfigFile])
	if err != nil {
		return func(string) bool { return false }
	}
	return func(u string) bool { return cfg.Users[u] != nil }
}

// observedContent reads what a live pull Secret holds, as generations.
func observedContent(s *corev1.Secret, ns string) pullaccess.SecretContent {
	var c pullaccess.SecretContent
	if s == nil || s.Type != corev1.SecretTypeDockerConfigJson {
		return c
	}
	if g, err := strconv.ParseInt(s.Annotations[pullaccess.AnnotationGeneration], 10, 64); err == nil {
		c.Generation = g
		c.Password = pullaccess.PasswordIn(s.Data[corev1.DockerConfigJsonKey], pullaccess.RobotUser(ns, g))
	}
	if g, err := strconv.ParseInt(s.Annotations[pullaccess.AnnotationNextGeneration], 10, 64); err == nil && len(s.Data[pullaccess.KeyNext]) > 0 {
		c.NextGeneration, c.NextPassword = g, string(s.Data[pullaccess.KeyNext])
	}
	return c
}

// putSecret makes the namespace's pull Secret hold c; no request when it does.
func (r *PullAccessReconciler) putSecret(ctx context.Context, ra *v1alpha1.RegistryAuth, ns string, live *corev1.Secret, c pullaccess.SecretContent, hosts []string) error {
	data := map[string][]byte{
		corev1.DockerConfigJsonKey: pullaccess.DockerConfig(hosts, pullaccess.RobotUser(ns, c.Generation), c.Password),
	}
	ann := map[string]string{
		pullaccess.AnnotationRegistry:   pullaccess.RegistryKey(ra),
		pullaccess.AnnotationGeneration: strconv.FormatInt(c.Generation, 10),
	}
	if c.NextPassword != "" {
		data[pullaccess.KeyNext] = []byte(c.NextPassword)
		ann[pullaccess.AnnotationNextGeneration] = strconv.FormatInt(c.NextGeneration, 10)
	}
	lbl := map[string]string{
		pullaccess.LabelKind: pullaccess.KindPullSecret, pullaccess.LabelRegistryUID: string(ra.UID),
	}
	if live == nil {
		s := &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: pullaccess.SecretName(ra), Namespace: ns, Labels: lbl, Annotations: ann},
			Type:       corev1.SecretTypeDockerConfigJson, Data: data,
		}
		return r.record(s, r.Client.Create(ctx, s))
	}
	if live.Type != corev1.SecretTypeDockerConfigJson {
		// The type is immutable: replace the Secret (it is ours by its labels).
		if err := r.Client.Delete(ctx, live, client.Preconditions{UID: &live.UID}); client.IgnoreNotFound(err) != nil {
			return err
		}
		r.deleted(live)
		return r.putSecret(ctx, ra, ns, nil, c, hosts)
	}
	s := live.DeepCopy()
	if s.Annotations == nil {
		s.Annotations = map[string]string{}
	}
	delete(s.Annotations, pullaccess.AnnotationNextGeneration)
	for k, v := range ann {
		s.Annotations[k] = v
	}
	for k, v := range lbl {
		s.Labels[k] = v
	}
	s.Data = data
	if equality.Semantic.DeepEqual(s.Data, live.Data) && equality.Semantic.DeepEqual(s.Annotations, live.Annotations) &&
		equality.Semantic.DeepEqual(s.Labels, live.Labels) {
		return nil
	}
	return r.record(s, r.Client.Update(ctx, s))
}

// record notes a successful write for awaitCache and passes err through.
func (r *PullAccessReconciler) record(obj client.Object, err error) error {
	if err == nil {
		r.wrote(obj)
	}
	return err
}

// setCondition applies PullSecretsReady with its own field manager (server-
// side apply merges conditions by type, so the registry controller's
// conditions are untouched); no request when nothing changed.
func (r *PullAccessReconciler) setCondition(ctx context.Context, ra *v1alpha1.RegistryAuth, c metav1.Condition) error {
	var old *metav1.Condition
	for i := range ra.Status.Conditions {
		if ra.Status.Conditions[i].Type == c.Type {
			old = &ra.Status.Conditions[i]
		}
	}
	if old != nil && old.Status == c.Status && old.Reason == c.Reason && old.Message == c.Message && old.ObservedGeneration == c.ObservedGeneration {
		return nil
	}
	c.LastTransitionTime = metav1.NewTime(r.Now())
	if old != nil && old.Status == c.Status {
		c.LastTransitionTime = old.LastTransitionTime
	}
	if c.Status == metav1.ConditionFalse && c.Reason != v1alpha1.ReasonProgressing && (old == nil || old.Message != c.Message) {
		// A problem, not a pass still under way, gets a Warning.
		r.Recorder.Eventf(ra, nil, corev1.EventTypeWarning, c.Reason, "PullAccess", "%s", c.Message)
	}
	cond, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&c)
	if err != nil {
		return err
	}
	patch := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": v1alpha1.GroupVersion.String(), "kind": "RegistryAuth",
		"metadata": map[string]any{"name": ra.Name, "namespace": ra.Namespace},
		"status":   map[string]any{"conditions": []any{cond}},
	}}
	return client.IgnoreNotFound(r.Client.Status().Patch(ctx, patch, client.Apply, client.FieldOwner(pullAccessFieldOwner), client.ForceOwnership))
}

// pullAccessFieldOwner is the field manager of what pull access applies.
const pullAccessFieldOwner = "registry-auth-operator-pull-access"

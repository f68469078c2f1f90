package controllers

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	"github.com/registry-auth-operator/registry-auth-operator/api/v1alpha1"
	"github.com/registry-auth-operator/registry-auth-operator/internal/pullaccess"
)

// +kubebuilder:rbac:groups="",resources=namespaces,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=serviceaccounts,verbs=get;list;watch;patch
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;list;watch;create;update;delete
// +kubebuilder:rbac:groups=registryauth.dev,resources=registryauths,verbs=get;list;watch;patch
// +kubebuilder:rbac:groups=registryauth.dev,resources=registryauths/finalizers,verbs=update
// +kubebuilder:rbac:groups=registryauth.dev,resources=registryauths/status,verbs=get;patch

// DefaultPullSettle is how long a new robot password is accepted by the
// auth config before the pull Secret hands it out when the auth servers
// cannot be asked whether they have it: the kubelet's sync of the auth
// Secret volume (up to about a minute) plus the auth server's reload.
const DefaultPullSettle = 2 * time.Minute

// maxIssuePerPass bounds the bcrypt work of one reconcile: at 1000 new
// namespaces the robots appear in batches, each batch written at once.
const maxIssuePerPass = 64

// PullAccessReconciler keeps, for each RegistryAuth with spec.pullSecrets, a
// robot account and pull Secret in every selected namespace and the
// ServiceAccounts' entries naming it (docs/pull-access.md).
type PullAccessReconciler struct {
	// Client reads RegistryAuths and auth Secrets (manager cache) and writes.
	Client client.Client
	// APIReader looks up a Secret name the cache does not hold (conflicts).
	APIReader client.Reader
	// Cache holds what only pull access needs: its own labelled Secrets,
	// ServiceAccounts reduced to their pull-secret lists, namespace metadata.
	Cache    cache.Cache
	Recorder events.EventRecorder
	Now      func() time.Time
	// Settle: see DefaultPullSettle. The wait ends earlier once Prober saw
	// every auth server accept the successor (pullaccess_probe.go).
	Settle time.Duration
	// Prober logs in at one auth server (selfcheck.HTTP); nil: Settle only.
	Prober PullProber
	// Generate makes robot passwords (pullaccess.NewPassword).
	Generate pullaccess.Generator
	// Namespaces limits pull access to these namespaces (the operator's
	// --watch-namespaces, where its RBAC lets it write Secrets); nil: all.
	Namespaces []string

	reconciled func() // test hook: called after each reconcile
	pending    []cacheWrite
	probes     probeClock
}

// Reconcile brings one registry's pull access in line with its spec.
func (r *PullAccessReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	if r.reconciled != nil {
		defer r.reconciled()
	}
	defer r.awaitCache(ctx)
	ra := &v1alpha1.RegistryAuth{}
	if err := r.Client.Get(ctx, req.NamespacedName, ra); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !ra.DeletionTimestamp.IsZero() || ra.Spec.PullSecrets == nil {
		return ctrl.Result{}, r.finish(ctx, ra)
	}
	if !controllerutil.ContainsFinalizer(ra, pullaccess.Finalizer) {
		before := ra.DeepCopy()
		controllerutil.AddFinalizer(ra, pullaccess.Finalizer)
		if err := r.Client.Patch(ctx, ra, client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{})); err != nil {
			return ctrl.Result{}, err
		}
		r.wrote(ra)
	}
	res, problems, err := r.sync(ctx, ra)
	if err != nil {
		return ctrl.Result{}, err
	}
	return res, r.report(ctx, ra, problems)
}

// finish removes every trace of pull access (the spec dropped it, or the
// registry is being deleted), then the finalizer.
func (r *PullAccessReconciler) finish(ctx context.Context, ra *v1alpha1.RegistryAuth) error {
	if !controllerutil.ContainsFinalizer(ra, pullaccess.Finalizer) {
		return nil
	}
	st, stateSecret, err := r.loadState(ctx, ra)
	if err != nil {
		return err
	}
	secrets, err := r.ownSecrets(ctx, ra)
	if err != nil {
		return err
	}
	namespaces := map[string]bool{}
	for ns := range st.Robots {
		namespaces[ns] = true
	}
	for ns := range secrets {
		namespaces[ns] = true
	}
	for ns := range namespaces {
		if err := r.revoke(ctx, ra, ns, secrets[ns]); err != nil {
			return err
		}
	}
	if stateSecret != nil && ra.DeletionTimestamp.IsZero() {
		// Spec dropped pull access: the robots leave the auth config now.
		if err := r.Client.Delete(ctx, stateSecret, client.Preconditions{UID: &stateSecret.UID}); client.IgnoreNotFound(err) != nil {
			return err
		}
		r.deleted(stateSecret)
	}
	before := ra.DeepCopy()
	controllerutil.RemoveFinalizer(ra, pullaccess.Finalizer)
	return client.IgnoreNotFound(r.Client.Patch(ctx, ra, client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{})))
}

// revoke deletes a namespace's pull Secret and the ServiceAccount entries
// naming it; other entries stay.
func (r *PullAccessReconciler) revoke(ctx context.Context, ra *v1alpha1.RegistryAuth, ns string, s *corev1.Secret) error {
	if s != nil {
		if err := r.Client.Delete(ctx, s, client.Preconditions{UID: &s.UID}); client.IgnoreNotFound(err) != nil {
			return err
		}
		r.deleted(s)
	}
	return r.removeEntries(ctx, ns, pullaccess.SecretName(ra), nil)
}

// problem is a namespace that could not get pull access.
type problem struct{ namespace, reason, message string }

// sync is one pass over the selected namespaces. Writes follow a fixed
// order: state (hashes) first, then Secrets (plaintext), then
// ServiceAccounts, so the auth config never lacks a hash a Secret hands out.
func (r *PullAccessReconciler) sync(ctx context.Context, ra *v1alpha1.RegistryAuth) (ctrl.Result, []problem, error) {
	spec := ra.Spec.PullSecrets
	hosts := pullHosts(ra)
	if len(hosts) == 0 {
		return ctrl.Result{RequeueAfter: 5 * time.Second},
			[]problem{{"", v1alpha1.ReasonProgressing, "waiting for the registry's addresses (status.urls)"}}, nil
	}
	sel, err := metav1.LabelSelectorAsSelector(&spec.NamespaceSelector)
	if err != nil {
		return ctrl.Result{}, []problem{{"", "InvalidSelector", err.Error()}}, nil
	}
	selected, annotations, err := r.selectedNamespaces(ctx, sel)
	if err != nil {
		return ctrl.Result{}, nil, err
	}
	st, stateSecret, err := r.loadState(ctx, ra)
	if err != nil {
		return ctrl.Result{}, nil, err
	}
	secrets, err := r.ownSecrets(ctx, ra)
	if err != nil {
		return ctrl.Result{}, nil, err
	}
	authHas := r.authUsers(ctx, ra)
	name := pullaccess.SecretName(ra)
	now := r.Now()
	loaded := r.loadedUsers(ctx, ra, st, secrets, now)

	next := &pullaccess.State{Robots: map[string]*pullaccess.Robot{}}
	wanted := map[string]pullaccess.SecretContent{}
	var problems []problem
	var requeue time.Duration
	issued, waiting := 0, false
	for _, ns := range selected {
		live := secrets[ns]
		// Over the pass's bcrypt budget: the rest waits for the next pass,
		// before its conflict lookup (one API read each) is paid.
		if issued >= maxIssuePerPass {
			if old := st.Robots[ns]; old != nil {
				next.Robots[ns] = old
			}
			requeue = time.Second
			waiting = true
			continue
		}
		if live == nil {
			conflict, err := r.nameTaken(ctx, ns, name)
			if err != nil {
				return ctrl.Result{}, nil, err
			}
			if conflict {
				problems = append(problems, problem{ns, v1alpha1.ReasonNameConflict,
					fmt.Sprintf("Secret %s/%s exists and is not managed by this registry; it is left alone", ns, name)})
				continue
			}
		}
		d, err := pullaccess.Step(st.Robots[ns], pullaccess.Observed{
			Namespace: ns, Now: now, Secret: observedContent(live, ns), RotateRequest: annotations[ns],
			AuthHas: authHas, Loaded: loaded, RotateEvery: durationOr(spec.RotateEvery, 720*time.Hour),
			Overlap: durationOr(spec.Overlap, time.Hour), Settle: r.Settle,
		}, r.Generate)
		if err != nil {
			return ctrl.Result{}, nil, err
		}
		issued += d.Issued
		next.Robots[ns] = d.Robot
		if !d.Wait { // waiting: the Secret stays as it is until RequeueAfter
			wanted[ns] = d.Secret
		}
		if d.RequeueAfter > 0 && (requeue == 0 || d.RequeueAfter < requeue) {
			requeue = d.RequeueAfter
		}
	}
	if waiting {
		// Not "ready" while namespaces wait; no count in the message, so
		// the condition is written once, not once per batch.
		problems = append(problems, problem{"", v1alpha1.ReasonProgressing,
			fmt.Sprintf("selected namespaces wait for their credentials (at most %d are made per pass)", maxIssuePerPass)})
	}
	if err := r.saveState(ctx, ra, stateSecret, next); err != nil {
		return ctrl.Result{}, nil, err
	}
	for _, ns := range slices.Sorted(maps.Keys(wanted)) {
		if err := r.putSecret(ctx, ra, ns, secrets[ns], wanted[ns], hosts); err != nil {
			return ctrl.Result{}, nil, err
		}
		if err := r.ensureEntries(ctx, ns, name, spec.ServiceAccounts); err != nil {
			return ctrl.Result{}, nil, err
		}
		// ServiceAccounts dropped from the spec lose the entry.
		if err := r.removeEntries(ctx, ns, name, serviceAccountsOr(spec.ServiceAccounts)); err != nil {
			return ctrl.Result{}, nil, err
		}
	}
	// Namespaces no longer selected (or deleted): Secret and entries go.
	for ns, s := range secrets {
		if _, ok := wanted[ns]; !ok && next.Robots[ns] == nil {
			if err := r.revoke(ctx, ra, ns, s); err != nil {
				return ctrl.Result{}, nil, err
			}
		}
	}
	for ns := range st.Robots {
		if next.Robots[ns] == nil && secrets[ns] == nil {
			if err := r.removeEntries(ctx, ns, name, nil); err != nil {
				return ctrl.Result{}, nil, err
			}
		}
	}
	return ctrl.Result{RequeueAfter: requeue}, problems, nil
}

// selectedNamespaces lists the namespaces the selector matches (metadata
// only), sorted, with their rotate-annotation values. Terminating ones are
// left out: nothing can be created in them.
func (r *PullAccessReconciler) selectedNamespaces(ctx context.Context, sel labels.Selector) ([]string, map[string]string, error) {
	list := &metav1.PartialObjectMetadataList{}
	list.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("NamespaceList"))
	if err := r.Cache.List(ctx, list, client.MatchingLabelsSelector{Selector: sel}); err != nil {
		return nil, nil, err
	}
	var out []string
	ann := map[string]string{}
	for _, ns := range list.Items {
		if !ns.DeletionTimestamp.IsZero() || (r.Namespaces != nil && !slices.Contains(r.Namespaces, ns.Name)) {
			continue
		}
		out = append(out, ns.Name)
		ann[ns.Name] = ns.Annotations[v1alpha1.AnnotationRotatePullSecret]
	}
	slices.Sort(out)
	return out, ann, nil
}

// ownSecrets are this registry's pull Secrets by namespace.
func (r *PullAccessReconciler) ownSecrets(ctx context.Context, ra *v1alpha1.RegistryAuth) (map[string]*corev1.Secret, error) {
	var list corev1.SecretList
	if err := r.Cache.List(ctx, &list, client.MatchingLabels{
		pullaccess.LabelKind: pullaccess.KindPullSecret, pullaccess.LabelRegistryUID: string(ra.UID),
	}); err != nil {
		return nil, err
	}
	out := map[string]*corev1.Secret{}
	for i := range list.Items {
		s := &list.Items[i]
		if s.Name == pullaccess.SecretName(ra) {
			out[s.Namespace] = s
			continue
		}
		// secretName changed: the old one goes.
		if err := r.Client.Delete(ctx, s, client.Preconditions{UID: &s.UID}); client.IgnoreNotFound(err) != nil {
			return nil, err
		}
		r.deleted(s)
	}
	return out, nil
}

// nameTaken reports whether a Secret of that name exists that is not ours
// (ours are all in the cache; only a miss costs an API read).
func (r *PullAccessReconciler) nameTaken(ctx context.Context, ns, name string) (bool, error) {
	s := &metav1.PartialObjectMetadata{}
	s.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Secret"))
	err := r.APIReader.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, s)
	if err != nil {
		return false, client.IgnoreNotFound(err)
	}
	return true, nil
}

// report sets PullSecretsReady (only when it changes) with an Event for
// each new problem.
func (r *PullAccessReconciler) report(ctx context.Context, ra *v1alpha1.RegistryAuth, problems []problem) error {
	cond := metav1.Condition{Type: v1alpha1.ConditionPullSecretsReady, Status: metav1.ConditionTrue,
		Reason: v1alpha1.ReasonSucceeded, Message: "every selected namespace has its pull Secret", ObservedGeneration: ra.Generation}
	if len(problems) > 0 {
		msg := problems[0].message
		if len(problems) > 1 {
			msg = fmt.Sprintf("%s (and %d more namespaces)", msg, len(problems)-1)
		}
		cond.Status, cond.Reason, cond.Message = metav1.ConditionFalse, problems[0].reason, msg
	}
	return r.setCondition(ctx, ra, cond)
}

func serviceAccountsOr(names []string) []string {
	if len(names) == 0 {
		return []string{"default"}
	}
	return names
}

func durationOr(d *metav1.Duration, def time.Duration) time.Duration {
	if d == nil || d.Duration <= 0 {
		return def
	}
	return d.Duration
}

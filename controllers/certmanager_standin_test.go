package controllers

// A test-only STAND-IN for the cert-manager controller (cert-manager itself is
// not runnable here): it issues cert-manager.io/v1 Certificates from CA
// Issuers and ClusterIssuers the way cert-manager v1.21's CA issuer does,
// without CertificateRequests. Secrets, annotations, conditions, reasons and
// messages are cert-manager's own; see certmanager_standin_*_test.go.

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	cmapi "github.com/cert-manager/cert-manager/pkg/apis/certmanager/v1"
	cmmeta "github.com/cert-manager/cert-manager/pkg/apis/meta/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/source"
)

// cmStandIn is the suite's stand-in; runSuite starts it (nil when it does not).
var cmStandIn *certManagerStandIn

// certManagerStandIn runs in its own manager, with its own scheme.
type certManagerStandIn struct {
	client client.Client // cached: watches and lists
	reader client.Reader // uncached: what a reconcile decides on
	Scheme *runtime.Scheme
	stop   context.CancelFunc
	done   chan struct{}
	kicks  chan event.TypedGenericEvent[types.NamespacedName]

	mu        sync.Mutex
	resources string                       // the "cluster resource namespace" of ClusterIssuers' CA Secrets
	issued    map[types.NamespacedName]int // issuances per Certificate
	renew     map[types.NamespacedName]bool
	pending   map[types.NamespacedName]string
}

// startCertManagerStandIn starts the stand-in; ctx cancellation or Stop ends it.
func startCertManagerStandIn(ctx context.Context, cfg *rest.Config) (*certManagerStandIn, error) {
	scheme := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(cmapi.AddToScheme(scheme))
	utilruntime.Must(cmmeta.AddToScheme(scheme))
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:     scheme,
		Metrics:    metricsserver.Options{BindAddress: "0"},
		Controller: config.Controller{SkipNameValidation: ptr.To(true)},
		Logger:     ctrl.Log.WithName("cert-manager-stand-in"),
	})
	if err != nil {
		return nil, err
	}
	s := &certManagerStandIn{
		client: mgr.GetClient(), reader: mgr.GetAPIReader(), Scheme: scheme,
		done: make(chan struct{}), kicks: make(chan event.TypedGenericEvent[types.NamespacedName], 64),
		resources: "cert-manager",
		issued:    map[types.NamespacedName]int{}, renew: map[types.NamespacedName]bool{}, pending: map[types.NamespacedName]string{},
	}
	kick := handler.TypedEnqueueRequestsFromMapFunc(func(_ context.Context, k types.NamespacedName) []ctrl.Request {
		return []ctrl.Request{{NamespacedName: k}}
	})
	err = ctrl.NewControllerManagedBy(mgr).Named("standin-certificates").
		For(&cmapi.Certificate{}).
		Watches(&cmapi.Issuer{}, handler.EnqueueRequestsFromMapFunc(s.certificatesOfIssuer)).
		Watches(&cmapi.ClusterIssuer{}, handler.EnqueueRequestsFromMapFunc(s.certificatesOfIssuer)).
		Watches(&corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(s.certificatesOfSecret)).
		WatchesRawSource(source.Channel(s.kicks, kick)).
		Complete(s)
	if err != nil {
		return nil, err
	}
	if err := s.setupIssuerReadiness(mgr); err != nil {
		return nil, err
	}
	ctx, s.stop = context.WithCancel(ctx)
	go func() {
		defer close(s.done)
		if err := mgr.Start(ctx); err != nil {
			ctrl.Log.Error(err, "cert-manager stand-in stopped")
		}
	}()
	if !mgr.GetCache().WaitForCacheSync(ctx) {
		s.Stop()
		return nil, fmt.Errorf("cert-manager stand-in: caches did not sync (are the cert-manager CRDs installed?)")
	}
	return s, nil
}

// Stop stops the stand-in and waits for it.
func (s *certManagerStandIn) Stop() { s.stop(); <-s.done }

// SetClusterResourceNamespace sets where ClusterIssuers' CA Secrets live
// (cert-manager's --cluster-resource-namespace; default "cert-manager").
func (s *certManagerStandIn) SetClusterResourceNamespace(ns string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.resources = ns
}

func (s *certManagerStandIn) resourceNamespace() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.resources
}

// Issued returns how many times the stand-in issued the Certificate.
func (s *certManagerStandIn) Issued(ns, name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.issued[types.NamespacedName{Namespace: ns, Name: name}]
}

// Pending returns why the Certificate waits for its issuer, in the words of the
// Ready=False/Pending condition cert-manager would put on its
// CertificateRequest ("" when it is not waiting). The Certificate itself shows
// only cert-manager's generic reasons, like the real one.
func (s *certManagerStandIn) Pending(ns, name string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pending[types.NamespacedName{Namespace: ns, Name: name}]
}

// Renew re-issues the Certificate now (new key, new certificate, revision+1),
// like `cmctl renew`, and waits until it is issued.
func (s *certManagerStandIn) Renew(ns, name string) error {
	k := types.NamespacedName{Namespace: ns, Name: name}
	before := s.Issued(ns, name)
	s.mu.Lock()
	s.renew[k] = true
	s.mu.Unlock()
	s.kicks <- event.TypedGenericEvent[types.NamespacedName]{Object: k}
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if s.Issued(ns, name) > before {
			return nil
		}
	}
	return fmt.Errorf("cert-manager stand-in: %s was not renewed within 30s (pending: %q)", k, s.Pending(ns, name))
}

// Reconcile follows cert-manager's trigger, issuing and readiness controllers.
func (s *certManagerStandIn) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	crt := &cmapi.Certificate{}
	if err := s.reader.Get(ctx, req.NamespacedName, crt); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	secret := &corev1.Secret{}
	if err := s.reader.Get(ctx, client.ObjectKey{Namespace: crt.Namespace, Name: crt.Spec.SecretName}, secret); apierrors.IsNotFound(err) {
		secret = nil
	} else if err != nil {
		return ctrl.Result{}, err
	}
	now := time.Now()
	notReady, notReadyMsg := readinessViolation(crt, secret, now)
	trigger, triggerMsg := notReady, notReadyMsg
	if trigger == "" {
		trigger, triggerMsg = s.renewalDue(crt, secret, now)
	}
	if trigger == "" {
		s.setPending(req.NamespacedName, "")
		if err := s.ensureSecretTemplate(ctx, crt, secret); err != nil {
			return ctrl.Result{}, err
		}
		leaf, _ := decodeLeaf(secret)
		if err := s.updateStatus(ctx, req.NamespacedName, func(c *cmapi.Certificate) { markIssued(c, leaf) }); err != nil {
			return ctrl.Result{}, err
		}
		return requeueAtRenewal(crt, leaf, now), nil
	}

	if c := getCondition(crt, cmapi.CertificateConditionIssuing); c != nil && c.Reason == "Failed" &&
		c.Status == cmmeta.ConditionFalse && c.ObservedGeneration == crt.Generation && trigger != "ManuallyTriggered" {
		return ctrl.Result{}, nil // cert-manager backs off for an hour; the stand-in waits for a spec change
	}
	ca, pending := s.issuerCA(ctx, crt)
	s.setPending(req.NamespacedName, pending)
	if pending != "" {
		ctrl.LoggerFrom(ctx).Info("cert-manager stand-in: waiting for the issuer", "certificate", req, "why", pending)
		err := s.updateStatus(ctx, req.NamespacedName, func(c *cmapi.Certificate) {
			setCondition(c, cmapi.CertificateConditionIssuing, cmmeta.ConditionTrue, trigger, triggerMsg)
			if notReady != "" { // while renewing, a certificate stays Ready
				setCondition(c, cmapi.CertificateConditionReady, cmmeta.ConditionFalse, notReady, notReadyMsg)
			}
		})
		return ctrl.Result{RequeueAfter: 5 * time.Second}, err // issuers and Secrets are watched too
	}

	leaf, err := s.issue(ctx, crt, secret, ca)
	if bad := (specError{}); errors.As(err, &bad) { // the CertificateRequest would fail: retried after a change
		return ctrl.Result{}, s.updateStatus(ctx, req.NamespacedName, func(c *cmapi.Certificate) {
			setCondition(c, cmapi.CertificateConditionIssuing, cmmeta.ConditionFalse, "Failed",
				"The certificate request has failed to complete and will be retried: "+bad.Error())
			c.Status.LastFailureTime = &metav1.Time{Time: now.Truncate(time.Second)}
			c.Status.FailedIssuanceAttempts = ptr.To(ptr.Deref(c.Status.FailedIssuanceAttempts, 0) + 1)
		})
	}
	if err != nil {
		return ctrl.Result{}, err
	}
	s.mu.Lock()
	s.issued[req.NamespacedName]++
	delete(s.renew, req.NamespacedName)
	s.mu.Unlock()
	err = s.updateStatus(ctx, req.NamespacedName, func(c *cmapi.Certificate) {
		c.Status.Revision = ptr.To(ptr.Deref(c.Status.Revision, 0) + 1)
		c.Status.LastFailureTime, c.Status.FailedIssuanceAttempts = nil, nil
		markIssued(c, leaf)
	})
	return requeueAtRenewal(crt, leaf, now), err
}

// renewalDue is the trigger controller's part beyond readiness: renewal time,
// Renew, or cmctl's manual trigger.
func (s *certManagerStandIn) renewalDue(crt *cmapi.Certificate, secret *corev1.Secret, now time.Time) (string, string) {
	s.mu.Lock()
	renew := s.renew[client.ObjectKeyFromObject(crt)]
	s.mu.Unlock()
	if c := getCondition(crt, cmapi.CertificateConditionIssuing); renew || (c != nil && c.Status == cmmeta.ConditionTrue && c.Reason == "ManuallyTriggered") {
		return "ManuallyTriggered", "Certificate re-issuance manually triggered"
	}
	leaf, _ := decodeLeaf(secret)
	if rt := renewalTime(crt, leaf); rt != nil && !now.Before(rt.Time) {
		return "Renewing", fmt.Sprintf("Renewing certificate as renewal was scheduled at %s", rt)
	}
	return "", ""
}

func (s *certManagerStandIn) setPending(k types.NamespacedName, msg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if msg == "" {
		delete(s.pending, k)
	} else {
		s.pending[k] = msg
	}
}

// issuerCA resolves spec.issuerRef to a CA key pair, or says why it cannot,
// with the messages of cert-manager's CertificateRequest controllers.
func (s *certManagerStandIn) issuerCA(ctx context.Context, crt *cmapi.Certificate) (*caKeyPair, string) {
	ref := crt.Spec.IssuerRef
	if ref.Group != "" && ref.Group != "cert-manager.io" {
		return nil, fmt.Sprintf("the cert-manager stand-in does not sign for external issuers (group %q)", ref.Group)
	}
	var issuer cmapi.GenericIssuer
	key, ns := client.ObjectKey{Namespace: crt.Namespace, Name: ref.Name}, crt.Namespace
	switch ref.Kind {
	case "", cmapi.IssuerKind:
		issuer = &cmapi.Issuer{}
	case cmapi.ClusterIssuerKind:
		issuer = &cmapi.ClusterIssuer{}
		key.Namespace, ns = "", s.resourceNamespace()
	default:
		return nil, fmt.Sprintf("the cert-manager stand-in does not know issuer kind %q", ref.Kind)
	}
	kind := ref.Kind
	if kind == "" {
		kind = cmapi.IssuerKind
	}
	if err := s.reader.Get(ctx, key, issuer); err != nil { // cert-manager: IssuerNotFound
		return nil, fmt.Sprintf("Referenced %q not found: %s", kind, notFound(err, strings.ToLower(kind)+".cert-manager.io", ref.Name))
	}
	if issuer.GetSpec().CA == nil {
		return nil, fmt.Sprintf("%s %q is not a CA issuer: the cert-manager stand-in only signs with CA issuers", kind, ref.Name)
	}
	secretName := issuer.GetSpec().CA.SecretName
	secret := &corev1.Secret{}
	if err := s.reader.Get(ctx, client.ObjectKey{Namespace: ns, Name: secretName}, secret); err != nil {
		return nil, fmt.Sprintf("Referenced secret %s/%s not found: %s", ns, secretName, notFound(err, "secret", secretName)) // cert-manager: SecretMissing
	}
	ca, err := loadCA(secret)
	if err != nil {
		return nil, fmt.Sprintf("Failed to parse signing CA keypair from secret %s/%s: %v", ns, secretName, err) // cert-manager: SecretInvalidData
	}
	return ca, ""
}

// notFound words a NotFound error as cert-manager's listers do.
func notFound(err error, resource, name string) string {
	if apierrors.IsNotFound(err) {
		return fmt.Sprintf("%s %q not found", resource, name)
	}
	return err.Error()
}

// certificatesOfIssuer maps an Issuer or ClusterIssuer to the Certificates that reference it.
func (s *certManagerStandIn) certificatesOfIssuer(ctx context.Context, o client.Object) []ctrl.Request {
	kind := cmapi.IssuerKind
	if _, ok := o.(*cmapi.ClusterIssuer); ok {
		kind = cmapi.ClusterIssuerKind
	}
	return s.certificates(ctx, o.GetNamespace(), func(c *cmapi.Certificate) bool {
		k := c.Spec.IssuerRef.Kind
		return c.Spec.IssuerRef.Name == o.GetName() && (k == kind || k == "" && kind == cmapi.IssuerKind)
	})
}

// certificatesOfSecret maps a Secret to the Certificates that write it.
func (s *certManagerStandIn) certificatesOfSecret(ctx context.Context, o client.Object) []ctrl.Request {
	return s.certificates(ctx, o.GetNamespace(), func(c *cmapi.Certificate) bool { return c.Spec.SecretName == o.GetName() })
}

func (s *certManagerStandIn) certificates(ctx context.Context, ns string, match func(*cmapi.Certificate) bool) []ctrl.Request {
	var list cmapi.CertificateList
	if err := s.client.List(ctx, &list, client.InNamespace(ns)); err != nil {
		return nil
	}
	var reqs []ctrl.Request
	for i := range list.Items {
		if match(&list.Items[i]) {
			reqs = append(reqs, ctrl.Request{NamespacedName: client.ObjectKeyFromObject(&list.Items[i])})
		}
	}
	return reqs
}

func requeueAtRenewal(crt *cmapi.Certificate, leaf *x509.Certificate, now time.Time) ctrl.Result {
	if rt := renewalTime(crt, leaf); rt != nil {
		return ctrl.Result{RequeueAfter: max(rt.Sub(now), 0) + 100*time.Millisecond}
	}
	return ctrl.Result{}
}

package controllers

// The cert-manager stand-in's issuer controllers: a CA Issuer or ClusterIssuer
// gets cert-manager v1.21's Ready condition (pkg/issuer/ca/setup.go):
// KeyPairVerified, ErrGetKeyPair or ErrInvalidKeyPair. Other issuer types are
// left alone.

import (
	"context"
	"slices"
	"strings"
	"time"

	cmapi "github.com/cert-manager/cert-manager/pkg/apis/certmanager/v1"
	cmmeta "github.com/cert-manager/cert-manager/pkg/apis/meta/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
)

type issuerReadiness struct {
	s    *certManagerStandIn
	kind string // Issuer or ClusterIssuer
}

func (s *certManagerStandIn) setupIssuerReadiness(mgr ctrl.Manager) error {
	for _, kind := range []string{cmapi.IssuerKind, cmapi.ClusterIssuerKind} {
		r := issuerReadiness{s: s, kind: kind}
		err := ctrl.NewControllerManagedBy(mgr).Named("standin-"+strings.ToLower(kind)+"s").
			For(r.newIssuer()).
			Watches(&corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(r.issuersOfSecret)).
			Complete(r)
		if err != nil {
			return err
		}
	}
	return nil
}

func (r issuerReadiness) newIssuer() cmapi.GenericIssuer {
	if r.kind == cmapi.ClusterIssuerKind {
		return &cmapi.ClusterIssuer{}
	}
	return &cmapi.Issuer{}
}

func (r issuerReadiness) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	issuer := r.newIssuer()
	if err := r.s.reader.Get(ctx, req.NamespacedName, issuer); err != nil || issuer.GetSpec().CA == nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	ns := issuer.GetNamespace()
	if r.kind == cmapi.ClusterIssuerKind {
		ns = r.s.resourceNamespace()
	}
	status, reason, message := cmmeta.ConditionTrue, "KeyPairVerified", "Signing CA verified"
	secret := &corev1.Secret{}
	err := r.s.reader.Get(ctx, client.ObjectKey{Namespace: ns, Name: issuer.GetSpec().CA.SecretName}, secret)
	var ca *caKeyPair
	if err == nil {
		ca, err = loadCA(secret)
	}
	if err != nil {
		status, reason, message = cmmeta.ConditionFalse, "ErrGetKeyPair", "Error getting keypair for CA issuer: "+err.Error()
	} else if !ca.certs[0].IsCA {
		status, reason, message = cmmeta.ConditionFalse, "ErrInvalidKeyPair", "Error getting keypair for CA issuer: certificate is not a CA"
	}

	st := issuer.GetStatus()
	before := st.DeepCopy()
	i := slices.IndexFunc(st.Conditions, func(c cmapi.IssuerCondition) bool { return c.Type == cmapi.IssuerConditionReady })
	if i < 0 {
		st.Conditions = append(st.Conditions, cmapi.IssuerCondition{Type: cmapi.IssuerConditionReady})
		i = len(st.Conditions) - 1
	}
	c := &st.Conditions[i]
	if c.Status != status {
		c.LastTransitionTime = &metav1.Time{Time: time.Now().Truncate(time.Second)}
	}
	c.Status, c.Reason, c.Message, c.ObservedGeneration = status, reason, message, issuer.GetGeneration()
	if equality.Semantic.DeepEqual(before, st) {
		return ctrl.Result{}, nil
	}
	return ctrl.Result{}, r.s.client.Status().Update(ctx, issuer)
}

// issuersOfSecret maps a CA Secret to the issuers of this kind that use it.
func (r issuerReadiness) issuersOfSecret(ctx context.Context, o client.Object) []ctrl.Request {
	var issuers []cmapi.GenericIssuer
	if r.kind == cmapi.IssuerKind {
		var l cmapi.IssuerList
		_ = r.s.client.List(ctx, &l, client.InNamespace(o.GetNamespace()))
		for i := range l.Items {
			issuers = append(issuers, &l.Items[i])
		}
	} else if o.GetNamespace() == r.s.resourceNamespace() {
		var l cmapi.ClusterIssuerList
		_ = r.s.client.List(ctx, &l)
		for i := range l.Items {
			issuers = append(issuers, &l.Items[i])
		}
	}
	var reqs []ctrl.Request
	for _, is := range issuers {
		if ca := is.GetSpec().CA; ca != nil && ca.SecretName == o.GetName() {
			reqs = append(reqs, ctrl.Request{NamespacedName: client.ObjectKeyFromObject(is)})
		}
	}
	return reqs
}

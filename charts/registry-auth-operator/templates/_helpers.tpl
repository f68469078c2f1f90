{{- define "rao.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "rao.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "rao.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "rao.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "rao.selectorLabels" -}}
app.kubernetes.io/name: {{ include "rao.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* The operator's image reference; passed to the operator as --auth-image too. */}}
{{- define "rao.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{- define "rao.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "rao.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* Name of the node-trust agent's objects and of the ConfigMap the operator writes for it. */}}
{{- define "rao.nodeTrustName" -}}
{{- printf "%s-node-trust" (include "rao.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Container security context of the restricted Pod Security profile. */}}
{{- define "rao.restrictedContainer" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop: [ALL]
{{- end }}

{{/*
The watched namespaces as a YAML list (empty: all namespaces).
*/}}
{{- define "rao.watchNamespaces" -}}
{{- $out := list }}
{{- range splitList "," .Values.watchNamespaces }}
{{- if trim . }}{{ $out = append $out (trim .) }}{{ end }}
{{- end }}
{{- toYaml $out }}
{{- end }}

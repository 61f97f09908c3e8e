{{/* The release's name prefix: "cxloop" for a release named cxloop. */}}
{{- define "cxloop.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* Labels on every object. */}}
{{- define "cxloop.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{/* Labels that select the manager's pods. The Deployment's selector is
immutable: it is the installer's (config/manager), so that a cluster
installed with dist/install.yaml can move to the chart, and it must never
change between chart versions. One cxloop runs per cluster (its CRDs are
cluster-wide), so the release name is not needed to tell pods apart. */}}
{{- define "cxloop.selectorLabels" -}}
control-plane: controller-manager
{{- end -}}

{{/* Labels that select a shard's pods (sharding.shards), given the shard's
name: not the main manager's, so that its Services and its Deployment do not
take a shard's pods for its own. */}}
{{- define "cxloop.shardSelectorLabels" -}}
control-plane: controller-manager-shard
sharding.cxloop.dev/key: {{ . }}
{{- end -}}

{{/* Labels of the manager's pods and what selects them. */}}
{{- define "cxloop.podLabels" -}}
control-plane: controller-manager
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "cxloop.serviceAccountName" -}}
{{- default (printf "%s-controller-manager" (include "cxloop.fullname" .)) .Values.serviceAccount.name -}}
{{- end -}}

{{- define "cxloop.leaderElectionNamespace" -}}
{{- default .Release.Namespace .Values.leaderElection.namespace -}}
{{- end -}}

{{- define "cxloop.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{- define "driftmgr.name" -}}{{ .Release.Name }}{{- end -}}
{{- define "driftmgr.labels" -}}
app.kubernetes.io/name: driftmgr
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}
{{- define "driftmgr.selector" -}}
app.kubernetes.io/name: driftmgr
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}
{{- /* The user the API records approvals as (empty: the API records none). */ -}}
{{- define "driftmgr.approvalRecorder" -}}
{{- if .Values.api.enabled }}system:serviceaccount:{{ .Release.Namespace }}:{{ include "driftmgr.name" . }}{{ end -}}
{{- end -}}

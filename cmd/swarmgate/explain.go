package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/spf13/cobra"

	"github.com/swarmgate/swarmgate/api/v1alpha1"
	"github.com/swarmgate/swarmgate/cmd/internal/cli"
	"github.com/swarmgate/swarmgate/reconciler"
	"github.com/swarmgate/swarmgate/reconciler/operator"
	"github.com/swarmgate/swarmgate/reconciler/planner"
	"github.com/swarmgate/swarmgate/reconciler/render/nginx"
)

func newExplainCommand() *cobra.Command {
	var (
		files     fileOptions
		engine    engineOptions
		gateway   string
		req       nginx.Request
		path      string
		grpc      string
		headers   []string
		queries   []string
		output    string
		server    string
		tokenFile string
	)
	cmd := &cobra.Command{
		Use:   "explain --host HOST [--path PATH | --grpc SERVICE/METHOD] [-f PATH... | --server URL]",
		Short: "Say which Route and rule answer a request, and why the others do not",
		Long: `Follow one request through a gateway as its nginx would: which listener and
server take the host, which location the path, which Route or GRPCRoute, rule
and match answer it, the filters applied in order and the backends with their
weights, and for every rule of higher precedence, why it did not match. On a
port with TLS listeners the host is also the server name of the TLS handshake,
which may pass the connection through to a TLSRoute's backends; a TCP or UDP
listener's connection goes to its route's backends. Nothing is sent anywhere.
With -f, the manifests' objects; with --server, the objects a running operator
applied last; otherwise, the objects applied to the swarm.`,
		Example: `  swarmgate explain -f manifests/ --host app.example.com --path /api/users \
    --method POST --header X-Canary=true --query debug=1

  # Against what is applied on the swarm
  swarmgate explain --gateway http-gateway --host dmzhttp --path /

  # A gRPC call, a TLS connection by server name, a TCP connection
  swarmgate explain -f manifests/ --host api.example.com --grpc shop.Cart/AddItem
  swarmgate explain -f manifests/ --listener tls --host git.example.com
  swarmgate explain -f manifests/ --listener postgres

  # Against what a running operator (swarmgate run) applied
  swarmgate explain --server http://manager1:9090 --host dmzhttp --path /`,
		GroupID: "basic",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if output != "" && output != "json" {
				return &exitCodeError{Code: exitFail, Msg: "--output: want json, or nothing for text"}
			}
			if grpc != "" {
				// A gRPC call is a POST of /service/method.
				service, method, ok := strings.Cut(grpc, "/")
				if !ok || service == "" || method == "" || strings.Contains(method, "/") {
					return &exitCodeError{Code: exitFail, Msg: "--grpc: want SERVICE/METHOD"}
				}
				path, req.Method = "/"+grpc, http.MethodPost
			}
			target, err := requestTarget(path, queries)
			if err != nil {
				return &exitCodeError{Code: exitFail, Msg: err.Error()}
			}
			req.Target = target
			if req.Headers, err = requestHeaders(headers); err != nil {
				return &exitCodeError{Code: exitFail, Msg: err.Error()}
			}
			var ex *nginx.Explanation
			if server != "" {
				ex, err = explainRemote(cmd, server, tokenFile, gateway, req)
			} else {
				ex, err = explainLocal(cmd, &files, &engine, gateway, req)
			}
			if err != nil {
				return err
			}
			if output == "json" {
				// JSON escapes control characters but not Unicode's bidirectional overrides, which
				// an operator's answer may carry.
				enc := json.NewEncoder(terminalSafeWriter{cmd.OutOrStdout()})
				enc.SetIndent("", "  ")
				return enc.Encode(ex)
			}
			printExplanation(cmd.OutOrStdout(), ex)
			return nil
		},
	}
	cmd.Flags().StringSliceVarP(&files.paths, "filename", "f", nil, "manifest file or directory (read recursively), or - for standard input; repeatable (default: the applied objects)")
	engine.addFlags(cmd)
	cmd.Flags().StringVar(&gateway, "gateway", "", "the Gateway that receives the request (needed when there are several)")
	cmd.Flags().StringVar((*string)(&req.Listener), "listener", "", "the listener whose port receives the request (needed when the gateway has several ports)")
	cmd.Flags().StringVar(&req.Host, "host", "", "the request's Host header, and the server name of its TLS handshake (not needed for a TCP or UDP listener)")
	cmd.Flags().StringVar(&path, "path", "/", "the request's path, percent-encoded as sent, with or without a query string")
	cmd.Flags().StringVar(&grpc, "grpc", "", "`SERVICE/METHOD` of a gRPC call (a POST of /SERVICE/METHOD), instead of --path and --method")
	cmd.Flags().StringVar(&req.Method, "method", "GET", "the request's method")
	cmd.Flags().StringArrayVar(&headers, "header", nil, "NAME=VALUE of a request header; repeatable")
	cmd.Flags().StringArrayVar(&queries, "query", nil, "NAME=VALUE of a query parameter, appended to the path as given (percent-encoded, as sent); repeatable")
	cmd.Flags().StringVarP(&output, "output", "o", "", "json, or nothing for text")
	cmd.Flags().StringVar(&server, "server", "", "`URL` of a running operator (swarmgate run): explain against the objects it applied last")
	cmd.Flags().StringVar(&tokenFile, "token-file", "", "with --server: file holding the operator's --read-token-file token")
	cmd.MarkFlagsMutuallyExclusive("filename", "server")
	cmd.MarkFlagsMutuallyExclusive("grpc", "path")
	cmd.MarkFlagsMutuallyExclusive("grpc", "method")
	return cmd
}

// explainLocal explains the request against the manifests (-f) or the objects applied to the swarm.
func explainLocal(cmd *cobra.Command, files *fileOptions, engine *engineOptions, gateway string, req nginx.Request) (*nginx.Explanation, error) {
	objs, err := explainObjects(cmd, files, engine)
	if err != nil {
		return nil, err
	}
	ex, err := nginx.ExplainIn(objs, gateway, req)
	if err != nil {
		return nil, &exitCodeError{Code: exitFail, Msg: err.Error()}
	}
	return ex, nil
}

// explainRemote asks a running operator to explain the request (GET /explain).
func explainRemote(cmd *cobra.Command, server, tokenFile, gateway string, req nginx.Request) (*nginx.Explanation, error) {
	token, err := cli.ReadToken("--token-file", tokenFile)
	if err != nil {
		return nil, &exitCodeError{Code: exitFail, Msg: err.Error()}
	}
	q := url.Values{}
	for k, v := range map[string]string{operator.ExplainQuery.Gateway: gateway, operator.ExplainQuery.Listener: string(req.Listener),
		operator.ExplainQuery.Host: req.Host, operator.ExplainQuery.Target: req.Target, operator.ExplainQuery.Method: req.Method} {
		if v != "" {
			q.Set(k, v)
		}
	}
	for k, vs := range req.Headers {
		for _, v := range vs {
			q.Add(operator.ExplainQuery.Header, k+"="+v)
		}
	}
	var ex nginx.Explanation
	if err := fetchOperator(cmd.Context(), server, "/explain", q, token, &ex); err != nil {
		return nil, err
	}
	return &ex, nil
}

// explainObjects are the manifests' objects with -f, else the objects applied to the swarm.
func explainObjects(cmd *cobra.Command, files *fileOptions, engine *engineOptions) ([]v1alpha1.Object, error) {
	if len(files.paths) > 0 {
		return files.load(cmd)
	}
	r, c, err := engine.reconciler()
	if err != nil {
		return nil, err
	}
	defer c.Close()
	pass, err := plan(cmd, r, reconciler.Input{}, planner.Options{KeepAgentConfigs: true}, false)
	if err != nil {
		return nil, err
	}
	return pass.Objects, nil
}

// requestTarget appends the --query parameters to the path, as given: nginx compares them as sent.
func requestTarget(path string, queries []string) (string, error) {
	if !strings.HasPrefix(path, "/") {
		return "", fmt.Errorf("--path must start with /")
	}
	for _, q := range queries {
		k, v, ok := strings.Cut(q, "=")
		if !ok || k == "" {
			return "", fmt.Errorf("--query: want NAME=VALUE")
		}
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		path += sep + k + "=" + v
	}
	return path, nil
}

func requestHeaders(flags []string) (map[string][]string, error) {
	headers := map[string][]string{}
	for _, h := range flags {
		k, v, ok := strings.Cut(h, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("--header: want NAME=VALUE")
		}
		headers[k] = append(headers[k], v)
	}
	return headers, nil
}

// printExplanation writes an explanation, which may come from an operator: its text is made
// terminal-safe.
func printExplanation(w io.Writer, ex *nginx.Explanation) {
	w = terminalSafeWriter{w}
	fmt.Fprintf(w, "Gateway:  %s, port %d", ex.Gateway, ex.Port)
	if ex.Listener != "" {
		fmt.Fprintf(w, ", listener %s", ex.Listener)
	}
	fmt.Fprintln(w)
	unit := "requests"
	switch server := ex.Server; {
	case ex.Stream == v1alpha1.ProtocolTLS:
		fmt.Fprintln(w, "Stream:   TLS by server name, passed through unopened")
		unit = "connections"
	case ex.Stream != "":
		fmt.Fprintf(w, "Stream:   %s\n", ex.Stream)
		unit = "connections"
	case server == "_":
		fmt.Fprintln(w, "Server:   the port's default server (no route names this host)")
	default:
		fmt.Fprintf(w, "Server:   %s\n", server)
	}
	if ex.Location != "" {
		fmt.Fprintf(w, "Location: %s\n", ex.Location)
	}
	if c := ex.Chosen; c != nil {
		fmt.Fprintf(w, "Answered by %s %s, %s\n", kindOf(*c), strings.TrimPrefix(c.Route, "/"), ruleName(*c))
		if len(c.Filters) > 0 {
			fmt.Fprintf(w, "  filters, in order: %s\n", strings.Join(c.Filters, ", "))
		}
		if len(c.Backends) == 0 {
			if ex.Stream != "" {
				fmt.Fprintln(w, "  no backends: nginx closes the connections")
			} else {
				fmt.Fprintln(w, "  no backends: answers 500")
			}
		}
		var total int64
		for _, b := range c.Backends {
			total += int64(b.Weight)
		}
		for _, b := range c.Backends {
			share := "no " + unit
			if total > 0 && b.Weight > 0 {
				share = fmt.Sprintf("%.1f%% of %s", 100*float64(b.Weight)/float64(total), unit)
			}
			if b.Refused != "" {
				share = "none: " + b.Refused
			}
			fmt.Fprintf(w, "  backend %s port %d, weight %d (%s)", b.Service, b.Port, b.Weight, share)
			if len(b.Filters) > 0 {
				fmt.Fprintf(w, ", then its filters: %s", strings.Join(b.Filters, ", "))
			}
			fmt.Fprintln(w)
		}
	} else {
		fmt.Fprintf(w, "Answer:   %s\n", ex.Answer)
	}
	if len(ex.Passed) > 0 {
		fmt.Fprintln(w, "Passed over, in precedence order:")
		for _, p := range ex.Passed {
			fmt.Fprintf(w, "  %s %s, %s: %s\n", kindOf(p), strings.TrimPrefix(p.Route, "/"), ruleName(p), p.Reason)
		}
	}
}

// kindOf is the kind of a verdict's route; an operator of an earlier version names none, and
// explained Routes only.
func kindOf(v nginx.Verdict) v1alpha1.Kind {
	if v.Kind == "" {
		return v1alpha1.KindRoute
	}
	return v.Kind
}

func ruleName(v nginx.Verdict) string {
	s := fmt.Sprintf("rule %d", v.Rule)
	if v.RuleName != "" {
		s += " (" + v.RuleName + ")"
	}
	if k := kindOf(v); k != v1alpha1.KindRoute && k != v1alpha1.KindGRPCRoute {
		return s // a stream route's rule has no matches
	}
	return s + fmt.Sprintf(" match %d", v.Match)
}

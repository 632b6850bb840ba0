# swarmgate's image: the static binary and CA certificates, nothing else. Built by hack/image.sh
# (make image), which puts both in the build context, so it builds without any registry.
FROM scratch
COPY swarmgate /usr/local/bin/swarmgate
COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
USER 0
EXPOSE 9090
ENTRYPOINT ["/usr/local/bin/swarmgate"]
CMD ["run", "--source", "dir:/manifests"]

# Tor for the compose file: the onion service in front of Axon and the SOCKS port Axon uses.
FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends tor \
    && rm -rf /var/lib/apt/lists/*
COPY deploy/docker/torrc /etc/tor/torrc
USER debian-tor
CMD ["tor", "-f", "/etc/tor/torrc"]

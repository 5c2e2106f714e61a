//! Facts about the client taken from the request: its IP (believing
//! X-Forwarded-For only from configured proxies), user agent and referrer.

use std::net::IpAddr;

use actix_web::http::header;
use actix_web::HttpRequest;
use ipnet::IpNet;

use crate::comments::ClientInfo;
use crate::services::Services;

pub fn client_info(req: &HttpRequest, state: &Services) -> ClientInfo {
    let text = |name: header::HeaderName| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
            .filter(|s| !s.is_empty())
    };
    ClientInfo {
        ip: client_ip(req, &state.settings.server.trusted_proxies),
        user_agent: text(header::USER_AGENT),
        referrer: text(header::REFERER),
    }
}

/// The TCP peer, unless it is a trusted proxy: then the right-most address in
/// X-Forwarded-For that is not itself a trusted proxy (addresses further left
/// were written by the client and prove nothing).
pub fn client_ip(req: &HttpRequest, trusted: &[IpNet]) -> Option<IpAddr> {
    let peer = req.peer_addr().map(|a| a.ip())?;
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return Some(peer);
    }
    let forwarded: Vec<IpAddr> = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    Some(
        forwarded
            .into_iter()
            .rev()
            .find(|ip| !is_trusted(ip))
            .unwrap_or(peer),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|s| s.parse().unwrap()).collect()
    }

    #[test]
    fn untrusted_peers_cannot_spoof_their_address() {
        let req = TestRequest::default()
            .peer_addr("203.0.113.9:5000".parse().unwrap())
            .insert_header(("X-Forwarded-For", "1.2.3.4"))
            .to_http_request();
        assert_eq!(client_ip(&req, &[]), Some("203.0.113.9".parse().unwrap()));
    }

    #[test]
    fn trusted_proxies_pass_on_the_nearest_untrusted_address() {
        let req = TestRequest::default()
            .peer_addr("10.0.0.2:5000".parse().unwrap())
            .insert_header(("X-Forwarded-For", "6.6.6.6, 198.51.100.7, 10.0.0.1"))
            .to_http_request();
        let trusted = nets(&["10.0.0.0/8"]);
        assert_eq!(
            client_ip(&req, &trusted),
            Some("198.51.100.7".parse().unwrap())
        );
    }
}

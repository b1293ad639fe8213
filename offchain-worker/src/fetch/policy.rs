//! Pure decisions of the fetcher: which addresses may be contacted and whether a job's input list
//! is acceptable before any network traffic.

use std::{
	collections::HashSet,
	net::{IpAddr, Ipv4Addr, Ipv6Addr},
};

use url::{Host, Url};

use super::{FetchError, FetchPolicy, InputSpec};

/// The longest input name, in bytes.
pub const MAX_NAME_LEN: usize = 64;

/// The URL schemes an input may use.
pub const ALLOWED_SCHEMES: [&str; 2] = ["http", "https"];

/// IPv4 ranges that are not globally reachable (IANA special-purpose registry), refused unless
/// the policy allows private addresses. `(network, prefix length)`.
const V4_REFUSED: [(Ipv4Addr, u8); 15] = [
	(Ipv4Addr::new(0, 0, 0, 0), 8),       // "this network", unspecified
	(Ipv4Addr::new(10, 0, 0, 0), 8),      // private (RFC 1918)
	(Ipv4Addr::new(100, 64, 0, 0), 10),   // shared address space, CGNAT (RFC 6598)
	(Ipv4Addr::new(127, 0, 0, 0), 8),     // loopback
	(Ipv4Addr::new(169, 254, 0, 0), 16),  // link-local, cloud metadata 169.254.169.254
	(Ipv4Addr::new(172, 16, 0, 0), 12),   // private (RFC 1918)
	(Ipv4Addr::new(192, 0, 0, 0), 24),    // IETF protocol assignments
	(Ipv4Addr::new(192, 0, 2, 0), 24),    // documentation TEST-NET-1
	(Ipv4Addr::new(192, 88, 99, 0), 24),  // 6to4 relay anycast (deprecated)
	(Ipv4Addr::new(192, 168, 0, 0), 16),  // private (RFC 1918)
	(Ipv4Addr::new(198, 18, 0, 0), 15),   // benchmarking
	(Ipv4Addr::new(198, 51, 100, 0), 24), // documentation TEST-NET-2
	(Ipv4Addr::new(203, 0, 113, 0), 24),  // documentation TEST-NET-3
	(Ipv4Addr::new(224, 0, 0, 0), 4),     // multicast
	(Ipv4Addr::new(240, 0, 0, 0), 4),     // reserved, limited broadcast 255.255.255.255
];

/// IPv6 global unicast space; anything outside it is refused (loopback, unspecified, unique
/// local fc00::/7, link-local fe80::/10, multicast ff00::/8, discard 100::/64, ...), except
/// IPv4-mapped and NAT64 addresses, which are judged by the IPv4 address they carry.
const V6_GLOBAL: (Ipv6Addr, u8) = (Ipv6Addr::new(0x2000, 0, 0, 0, 0, 0, 0, 0), 3);

/// Parts of the global unicast space that are not globally reachable, or that tunnel to an
/// arbitrary IPv4 address. `(network, prefix length)`.
const V6_REFUSED: [(Ipv6Addr, u8); 4] = [
	// IETF protocol assignments: Teredo 2001::/32, benchmarking 2001:2::/48, ORCHID, ...
	(Ipv6Addr::new(0x2001, 0, 0, 0, 0, 0, 0, 0), 23),
	(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0), 32), // documentation
	(Ipv6Addr::new(0x2002, 0, 0, 0, 0, 0, 0, 0), 16),     // 6to4
	(Ipv6Addr::new(0x3fff, 0, 0, 0, 0, 0, 0, 0), 20),     // documentation (RFC 9637)
];

/// The NAT64 well-known prefix 64:ff9b::/96; the last 32 bits are an IPv4 address.
const V6_NAT64: (Ipv6Addr, u8) = (Ipv6Addr::new(0x64, 0xff9b, 0, 0, 0, 0, 0, 0), 96);

/// Whether `addr` may be contacted.
///
/// With `allow_private` every address is allowed (tests, private deployments). Otherwise only
/// globally reachable unicast addresses are: loopback, private, shared (CGNAT), link-local,
/// unspecified, broadcast, multicast, documentation, benchmarking and reserved addresses are
/// refused, IPv4-mapped and NAT64 IPv6 addresses are judged by the IPv4 address they carry, and
/// the 6to4 and Teredo tunnels are refused.
pub fn address_allowed(addr: IpAddr, allow_private: bool) -> bool {
	if allow_private {
		return true
	}
	match addr {
		IpAddr::V4(v4) => v4_global(v4),
		IpAddr::V6(v6) => v6_global(v6),
	}
}

/// Whether an IPv4 address is outside every refused range.
fn v4_global(addr: Ipv4Addr) -> bool {
	!V4_REFUSED.iter().any(|&(net, len)| v4_in(addr, net, len))
}

/// Whether an IPv6 address is global unicast outside every refused range.
fn v6_global(addr: Ipv6Addr) -> bool {
	if let Some(v4) = addr.to_ipv4_mapped() {
		return v4_global(v4)
	}
	if v6_in(addr, V6_NAT64.0, V6_NAT64.1) {
		return v4_global(Ipv4Addr::from(u128::from(addr) as u32))
	}
	v6_in(addr, V6_GLOBAL.0, V6_GLOBAL.1) &&
		!V6_REFUSED.iter().any(|&(net, len)| v6_in(addr, net, len))
}

/// Whether `addr` is in `net/len` (`len` at most 32).
fn v4_in(addr: Ipv4Addr, net: Ipv4Addr, len: u8) -> bool {
	let mask = u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
	u32::from(addr) & mask == u32::from(net) & mask
}

/// Whether `addr` is in `net/len` (`len` at most 128).
fn v6_in(addr: Ipv6Addr, net: Ipv6Addr, len: u8) -> bool {
	let mask = u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0);
	u128::from(addr) & mask == u128::from(net) & mask
}

/// Checks a job's inputs against the policy before any network traffic: names (1 to
/// [`MAX_NAME_LEN`] bytes of `[A-Za-z0-9._-]`, not starting with `.`, unique), URLs (parseable,
/// scheme in [`ALLOWED_SCHEMES`], no user name or password, a host; an IP-literal host must pass
/// [`address_allowed`]), and the declared sizes, each and in total.
pub fn check_inputs(inputs: &[InputSpec], policy: &FetchPolicy) -> Result<(), FetchError> {
	let mut names = HashSet::with_capacity(inputs.len());
	let mut total: u64 = 0;
	for input in inputs {
		check_name(&input.name)?;
		if !names.insert(input.name.as_str()) {
			return Err(FetchError::InvalidName {
				name: input.name.clone(),
				reason: "the name is used by another input".into(),
			})
		}
		let url = parse_url(&input.name, &input.url)?;
		if let Some(addr) = literal_address(&url) {
			check_address(&input.name, &url, addr, policy.allow_private_addresses)?;
		}
		if input.size > policy.max_input_bytes {
			return Err(FetchError::TooLarge {
				name: input.name.clone(),
				size: input.size,
				limit: policy.max_input_bytes,
			})
		}
		total = total.saturating_add(input.size);
		if total > policy.max_total_bytes {
			return Err(FetchError::TotalTooLarge {
				name: input.name.clone(),
				total,
				limit: policy.max_total_bytes,
			})
		}
	}
	Ok(())
}

/// Checks one input name: it becomes a file name in the input directory.
pub fn check_name(name: &str) -> Result<(), FetchError> {
	let refuse =
		|reason: &str| Err(FetchError::InvalidName { name: name.into(), reason: reason.into() });
	if name.is_empty() || name.len() > MAX_NAME_LEN {
		return refuse("a name has 1 to 64 bytes")
	}
	if name.starts_with('.') {
		return refuse("a name does not start with '.'")
	}
	if !name
		.bytes()
		.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
	{
		return refuse("a name has only the characters A-Z a-z 0-9 . _ -")
	}
	Ok(())
}

/// Parses an input's URL and checks its scheme, credentials and host.
pub fn parse_url(name: &str, url: &str) -> Result<Url, FetchError> {
	let invalid = |reason: String| FetchError::InvalidUrl { name: name.into(), reason };
	let parsed = Url::parse(url).map_err(|e| invalid(e.to_string()))?;
	if !ALLOWED_SCHEMES.contains(&parsed.scheme()) {
		return Err(FetchError::SchemeNotAllowed {
			name: name.into(),
			scheme: parsed.scheme().into(),
		})
	}
	if !parsed.username().is_empty() || parsed.password().is_some() {
		return Err(invalid("credentials (user name or password) in the URL".into()))
	}
	if parsed.host().is_none() {
		return Err(invalid("no host".into()))
	}
	Ok(parsed)
}

/// The address of an IP-literal host (`http://127.0.0.1/`, `http://[::1]/`, and the forms the
/// URL standard normalises to them, such as `http://2130706433/`); `None` for a domain name.
pub fn literal_address(url: &Url) -> Option<IpAddr> {
	match url.host()? {
		Host::Ipv4(v4) => Some(IpAddr::V4(v4)),
		Host::Ipv6(v6) => Some(IpAddr::V6(v6)),
		Host::Domain(_) => None,
	}
}

/// Refuses an address the policy does not allow, naming the input, the URL's host and the
/// address.
pub fn check_address(
	name: &str,
	url: &Url,
	addr: IpAddr,
	allow_private: bool,
) -> Result<(), FetchError> {
	if address_allowed(addr, allow_private) {
		return Ok(())
	}
	Err(FetchError::AddressNotAllowed {
		name: name.into(),
		host: url.host_str().unwrap_or_default().into(),
		addr,
	})
}

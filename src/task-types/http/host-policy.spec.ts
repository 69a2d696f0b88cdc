import { classifyAddress, HostPolicy } from './host-policy';

describe('classifyAddress', () => {
  it.each([
    ['169.254.169.254', 'forbidden'],
    ['169.254.0.1', 'forbidden'],
    ['100.100.100.200', 'forbidden'],
    ['0.0.0.0', 'forbidden'],
    ['224.0.0.1', 'forbidden'],
    ['255.255.255.255', 'forbidden'],
    ['::', 'forbidden'],
    ['fe80::1', 'forbidden'],
    ['fe80::1%eth0', 'forbidden'],
    ['FEBF::1', 'forbidden'],
    ['fd00:ec2::254', 'forbidden'],
    ['ff02::1', 'forbidden'],
    ['::ffff:169.254.169.254', 'forbidden'],
    ['::ffff:a9fe:a9fe', 'forbidden'],
    ['127.0.0.1', 'private'],
    ['127.255.0.9', 'private'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'private'],
    ['::1', 'private'],
    ['fd12:3456::1', 'private'],
    ['fd00:ec2::253', 'private'],
    ['::ffff:127.0.0.1', 'private'],
    ['::ffff:10.0.0.1', 'private'],
    ['64:ff9b::a9fe:a9fe', 'private'],
    ['8.8.8.8', 'public'],
    ['172.32.0.1', 'public'],
    ['100.128.0.1', 'public'],
    ['169.253.255.255', 'public'],
    ['2606:4700:4700::1111', 'public'],
    ['fec0::1', 'private'],
  ])('%s is %s', (address, kind) => {
    expect(classifyAddress(address)).toBe(kind);
  });

  it('throws for a non-address', () => {
    expect(() => classifyAddress('example.com')).toThrow('not an IP address: example.com');
  });
});

describe('HostPolicy', () => {
  const policy = new HostPolicy(['api.example.com', '*.hooks.example.org', '127.0.0.1', '::1', 'localhost', '169.254.169.254']);

  it.each([
    ['api.example.com', 'exact'],
    ['API.Example.COM.', 'exact'],
    ['a.hooks.example.org', 'pattern'],
    ['a.b.hooks.example.org', 'pattern'],
    ['hooks.example.org', 'none'],
    ['evilhooks.example.org', 'none'],
    ['example.com', 'none'],
    ['sub.api.example.com', 'none'],
    ['127.0.0.1', 'exact'],
    ['[::1]', 'exact'],
    ['127.0.0.2', 'none'],
  ] as const)('%s matches %s', (host, match) => {
    expect(policy.match(host)).toBe(match);
  });

  it('is disabled without entries', () => {
    expect(new HostPolicy([]).enabled).toBe(false);
    expect(new HostPolicy([]).hostProblem('example.com')).toBe('http tasks are disabled: HTTP_TASK_ALLOWED_HOSTS is empty');
    expect(policy.enabled).toBe(true);
  });

  it.each([
    ['api.example.com', undefined],
    ['x.hooks.example.org', undefined],
    ['127.0.0.1', undefined],
    ['[::1]', undefined],
    ['localhost', undefined], // its addresses are checked when connecting
    ['other.example.com', 'host "other.example.com" is not allowed by HTTP_TASK_ALLOWED_HOSTS'],
    ['169.254.169.254', '169.254.169.254 is a link-local, metadata or reserved address'],
  ])('hostProblem(%s) is %p', (host, problem) => {
    expect(policy.hostProblem(host)).toBe(problem);
  });

  it('lets private addresses through an exact entry only; never forbidden ones', () => {
    expect(policy.addressProblem('localhost', '127.0.0.1')).toBeUndefined();
    expect(policy.addressProblem('api.example.com', '10.0.0.5')).toBeUndefined();
    expect(policy.addressProblem('api.example.com', '93.184.216.34')).toBeUndefined();
    expect(policy.addressProblem('x.hooks.example.org', '93.184.216.34')).toBeUndefined();
    expect(policy.addressProblem('x.hooks.example.org', '10.0.0.5')).toBe(
      '10.0.0.5 is a loopback or private address, allowed only for a host listed exactly in HTTP_TASK_ALLOWED_HOSTS',
    );
    expect(policy.addressProblem('api.example.com', '169.254.169.254')).toBe('169.254.169.254 is a link-local, metadata or reserved address');
    expect(policy.addressProblem('api.example.com', 'fd00:ec2::254')).toBe('fd00:ec2::254 is a link-local, metadata or reserved address');
  });

  it('does not treat an IP literal as a name under a pattern', () => {
    expect(new HostPolicy(['*.0.0.1']).match('127.0.0.1')).toBe('none');
  });
});

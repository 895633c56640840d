#!/usr/bin/env python3
"""Build realistic-volume synthetic CAD files (New Orleans CFS layout, Detroit 911 layout) whose call
types are drawn in proportion to the Vera Institute / Two Sigma call-type volumes.
Deterministic (seed 20261128). Writes $OUT/nola_2022_like.csv, $OUT/nola_2022_like_cutboth.csv,
$OUT/detroit_like.csv and $OUT/gen/*_truth.csv (OUT defaults to target/validity; run from the repo root) (type -> Vera label, self-initiated rule).

Self-initiated rule (documented in docs/validity.md):
  Y  iff (Vera human category is Statuses  OR  callsift's crosswalk row for the type has
          third_party_likelihood = 0, i.e. officer activity: traffic enforcement, warrant stops,
          details, patrols)
     AND NOT (callsift's crosswalk gives the type a third_party_likelihood > 0, i.e. someone calls
          about it — e.g. Detroit WELL BEING CHECK, labelled Statuses by Vera).
"""
import csv, random, re, datetime, collections, sys, os

OUT = os.environ.get('OUT', 'target/validity')
os.makedirs(OUT + '/gen', exist_ok=True)

SEED = 20261128
VERA = os.environ.get('VERA', '../shared/vera/CallTypes.csv')
PROF = 'profiles/'

def norm(s):
    return re.sub(r'\s+', ' ', re.sub(r'[^A-Z0-9]', ' ', s.upper())).strip()

def normcat(c):
    c = (c or '').strip()
    fix = {'Assist the Public': 'Assisting the Public', 'Assisting the Public': 'Assisting the Public',
           'Medical': 'Medical Emergencies', 'Warrant': 'Warrants', 'Call Related Isuues': 'Call Related Issues'}
    return fix.get(c, c)

def crosswalk(name):
    d = {}
    for x in csv.DictReader(open(PROF + name + '.crosswalk.csv')):
        d[norm(x['raw_type'])] = x
    return d

def vera_rows(city, col):
    out = []
    for x in csv.DictReader(open(VERA)):
        if x['City'].strip() == city and x['Column_name'].strip() == col and x['Count']:
            out.append((x['Field 1'], float(x['Count']), normcat(x['Category'])))
    return out

def self_init(t, vcat, xw):
    row = xw.get(norm(t))
    tp = (row or {}).get('third_party_likelihood', '').strip()
    officer = vcat == 'Statuses' or tp in ('0', '0.0')
    caller = tp not in ('', '0', '0.0')
    return officer and not caller

def draw(rows, n, rng):
    types = [r[0] for r in rows]
    w = [r[1] for r in rows]
    return rng.choices(range(len(rows)), weights=w, k=n)

def ampm(dt):
    return dt.strftime('%m/%d/%Y %I:%M:%S %p')

def nola(n=20000, out=OUT + '/nola_2022_like.csv', cut_initial=False):
    rng = random.Random(SEED)
    rows = vera_rows('New Orleans', 'InitialTypeText')
    xw = crosswalk('new_orleans_cfs')
    codes = {}
    for i, (t, c, v) in enumerate(rows):
        note = (xw.get(norm(t)) or {}).get('note', '')
        m = re.search(r'NOPD signal (\w+)', note)
        codes[t] = m.group(1) if m else 'S%03d' % i   # synthetic code where the signal is unknown
    idx = draw(rows, n, rng)
    header = ['NOPD_Item','Type','TypeText','Priority','InitialType','InitialTypeText','InitialPriority','MapX','MapY',
              'TimeCreate','TimeDispatch','TimeArrive','TimeClosed','Disposition','DispositionText','SelfInitiated','Beat',
              'BLOCK_ADDRESS','Zip','PoliceDistrict','Location']
    disp = [('NAT','NECESSARY ACTION TAKEN',50),('RTF','REPORT TO FOLLOW',25),('GOA','GONE ON ARRIVAL',14),
            ('UNF','UNFOUNDED',8),('DUP','DUPLICATE',3)]
    start = datetime.datetime(2022,1,1)
    truth = []
    with open(out, 'w', newline='') as f:
        w = csv.writer(f)
        w.writerow(header)
        for k, j in enumerate(idx):
            t, _, vcat = rows[j]
            si = self_init(t, vcat, xw)
            u = t.upper()
            if vcat == 'Officer Needs Help':
                pr = '3C'
            elif si:
                pr = rng.choice(['0A', '1J'])
            elif vcat in ('Violent Crime', 'Fire', 'Medical Emergencies') or re.search(
                    r'SHOOT|ARMED|FIREARM|HOLD UP|INJUR|SUICIDE ATTEMPT|KNIFE|CUTTING|CARJACK|RAPE|HOSTAGE|BOMB', u):
                pr = rng.choice(['2A', '2A', '2B'])
            elif vcat == 'Domestic Violence' or re.search(r'FIGHT|BATTERY|SUICIDE|PROWLER|ALARM', u):
                pr = rng.choice(['2C', '1A'])
            else:
                pr = rng.choices(['1C', '1A', '1J', '1', '0A'], weights=[60, 15, 10, 5, 10])[0]
            tc = start + datetime.timedelta(seconds=rng.randrange(365*86400))
            td = tc + datetime.timedelta(seconds=0 if si else rng.randrange(60, 3600))
            ta = td + datetime.timedelta(seconds=0 if si else rng.randrange(120, 1800))
            tcl = ta + datetime.timedelta(seconds=rng.randrange(300, 5400))
            d = rng.choices(disp, weights=[x[2] for x in disp])[0]
            dist = rng.randint(1, 8)
            cut = rng.random() < 0.20
            tt = t[:20] if cut else t
            it = t[:20] if (cut and cut_initial) else t
            x = round(3660000 + rng.random()*80000, 1); y = round(510000 + rng.random()*60000, 1)
            lon = round(-90.13 + rng.random()*0.2, 6); lat = round(29.91 + rng.random()*0.12, 6)
            item = 'A%04d%02d22' % (k+1, tc.month)
            w.writerow([item, codes[t], tt, pr, codes[t], it, pr, x, y, ampm(tc), ampm(td), ampm(ta), ampm(tcl),
                        d[0], d[1], 'Y' if si else 'N', '%d%s%02d' % (dist, rng.choice('ABCDEFGHIJKLMNOPQ'), rng.randint(1, 9)),
                        '%03dXX Synthetic St' % rng.randint(1, 99), '701%02d' % rng.randint(12, 31), dist,
                        'POINT (%s %s)' % (lon, lat)])
            truth.append((item, t, vcat, 'Y' if si else 'N', int(cut)))
    with open(out.replace('.csv', '_truth.csv').replace(OUT + '/', OUT + '/gen/'), 'w', newline='') as f:
        w = csv.writer(f); w.writerow(['NOPD_Item', 'type', 'vera_category', 'self_initiated', 'typetext_cut'])
        w.writerows(truth)
    return truth

def detroit(n=20000, out=OUT + '/detroit_like.csv'):
    rng = random.Random(SEED + 1)
    rows = vera_rows('Detroit', 'Call Description')
    xw = crosswalk('detroit_911_cfs')
    header = next(csv.reader(open('tests/fixtures/synthetic/detroit_911_cfs_synthetic.csv')))
    idx = draw(rows, n, rng)
    start = datetime.datetime(2021,1,1)
    truth = []
    with open(out, 'w', newline='') as f:
        w = csv.writer(f, lineterminator='\r\n')
        w.writerow(header)
        for k, j in enumerate(idx):
            t, _, vcat = rows[j]
            si = self_init(t, vcat, xw)
            u = t.upper()
            if vcat == 'Officer Needs Help' or re.search(r'SHOOT|SHOTS FIRED IP|FELONIOUS ASSAULT IP|ROBBERY ARMED|OFFICER', u):
                pr = 1
            elif re.search(r'I/P|IP|INJ|WEAPON|ARMED|SUICIDE|DV ', u) or vcat in ('Violent Crime', 'Medical Emergencies', 'Fire'):
                pr = rng.choice([1, 2, 2])
            elif si:
                pr = rng.choice([4, 5])
            else:
                pr = rng.choice([2, 3, 3, 3, 4])
            tc = start + datetime.timedelta(seconds=rng.randrange(365*86400))
            lon = round(-83.28 + rng.random()*0.3, 6); lat = round(42.26 + rng.random()*0.17, 6)
            pre = rng.choice([2,3,4,5,6,7,8,9,10,11,12])
            intake = round(rng.random()*3, 2); disp_ = round(rng.random()*20, 2); trav = round(rng.random()*15, 2)
            scene = round(rng.random()*60, 2)
            rec = {'X': lon, 'Y': lat, 'incident_id': str(220000001 + k), 'agency': 'DPD',
                   'incident_address': '%d00 Block of Synthetic Ave' % rng.randint(1, 200), 'zip_code': '482%02d' % rng.randint(1, 40),
                   'priority': pr, 'callcode': '%06d' % rng.randint(100000, 999999), 'calldescription': t,
                   'category': norm(t)[:8], 'call_timestamp': tc.strftime('%Y/%m/%d %H:%M:%S+00'),
                   'precinct_sca': '%02d%02d' % (pre, rng.randint(1, 12)), 'respondingunit': '%d%s%02d' % (pre, rng.choice('ABCD'), rng.randint(1, 40)),
                   'officerinitiated': 'Yes' if si else 'No', 'intaketime': intake, 'dispatchtime': disp_, 'traveltime': trav,
                   'totalresponsetime': round(intake + disp_ + trav, 2), 'time_on_scene': scene,
                   'totaltime': round(intake + disp_ + trav + scene, 2), 'neighborhood': 'Synthetic',
                   'block_id': str(rng.randint(10**15, 10**16 - 1)), 'council_district': rng.randint(1, 7),
                   'longitude': lon, 'latitude': lat, 'ObjectId': k + 1}
            w.writerow([rec[h] for h in header])
            truth.append((rec['incident_id'], t, vcat, 'Y' if si else 'N'))
    with open(OUT + '/gen/detroit_like_truth.csv', 'w', newline='') as f:
        w = csv.writer(f); w.writerow(['incident_id', 'type', 'vera_category', 'self_initiated'])
        w.writerows(truth)
    return truth

if __name__ == '__main__':
    for name, tr in [('nola', nola()), ('nola_cutboth', nola(out=OUT + '/nola_2022_like_cutboth.csv', cut_initial=True)),
                     ('detroit', detroit())]:
        n = len(tr); y = sum(1 for r in tr if r[3] == 'Y')
        print('%s: %d rows, self-initiated Y %d (%.1f %%)' % (name, n, y, 100*y/n))
        if len(tr[0]) > 4:
            print('   TypeText cut to 20 chars: %d rows (%.1f %%); of them actually shortened: %d' % (
                sum(r[4] for r in tr), 100*sum(r[4] for r in tr)/n, sum(1 for r in tr if r[4] and len(r[1]) > 20)))

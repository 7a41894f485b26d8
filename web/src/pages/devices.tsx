import { useEffect, useState } from 'preact/hooks';
import { api, asList } from '../api';
import type { TextKey } from '../i18n';
import { errorText, LoadState, NeedSignIn, Outcome, Page, useResource, useShell } from '../shell';

type Precision = 'precise' | 'city' | 'region' | 'off';
const PRECISIONS: readonly Precision[] = ['precise', 'city', 'region', 'off'];

interface Device {
  id: string;
  deviceId?: string;
  model?: string;
  firmware?: string;
  /** The device's own setting; null follows the account's. */
  locationPrecision?: Precision | null;
  effectivePrecision?: Precision;
  imei?: string;
  /** The one stored location, already at the chosen precision; there is no history to return. */
  location?: { lat: number; lon: number; precision?: Precision } | null;
}

/** R-CHO-3, R-ACC-4: each device, its stored location, and the precision control with what each level means. */
export function DevicesPage() {
  const { t, signedIn } = useShell();
  const [devices, reloadDevices] = useResource<unknown>(signedIn ? '/v1/me/devices' : null);
  const [me, reloadMe] = useResource<{ locationPrecision?: Precision }>(signedIn ? '/v1/me' : null);
  return (
    <Page title={t('devicesTitle')} intro={t('devicesIntro')}>
      <p class="notice" data-testid="no-history">{t('noLocationHistory')}</p>
      {!signedIn ? (
        <NeedSignIn />
      ) : (
        <>
          <section aria-labelledby="account-precision" class="card">
            <h2 id="account-precision">{t('accountPrecision')}</h2>
            <LoadState load={me}>
              {() => me.state === 'ok' && <PrecisionControl name="account" value={me.data.locationPrecision ?? 'city'} path="/v1/me" onSaved={reloadMe} />}
            </LoadState>
          </section>
          <LoadState load={devices}>
            {() => {
              if (devices.state !== 'ok') return null;
              const list = asList<Device>(devices.data, 'devices');
              if (list.length === 0) return <p>{t('noDevices')}</p>;
              return list.map((d) => <DeviceCard key={d.id} device={d} onSaved={reloadDevices} />);
            }}
          </LoadState>
        </>
      )}
    </Page>
  );
}

function DeviceCard({ device, onSaved }: { device: Device; onSaved: () => void }) {
  const { t } = useShell();
  const headingId = `device-${device.id}`;
  return (
    <section aria-labelledby={headingId} class="card" data-device={device.id}>
      <h2 id={headingId}>{device.model ?? device.deviceId ?? device.id}</h2>
      <dl class="facts">
        <div>
          <dt>{t('model')}</dt>
          <dd>{device.model ?? '—'}</dd>
        </div>
        <div>
          <dt>{t('firmware')}</dt>
          <dd>{device.firmware ?? '—'}</dd>
        </div>
        <div>
          <dt>{t('storedLocation')}</dt>
          <dd data-testid="stored-location">
            {device.location ? `${device.location.lat}, ${device.location.lon} (${t(`precision_${device.location.precision ?? device.effectivePrecision ?? 'city'}` as TextKey)})` : t('noLocation')}
          </dd>
        </div>
      </dl>
      <PrecisionControl name={device.id} value={device.locationPrecision ?? null} path={`/v1/me/devices/${encodeURIComponent(device.id)}`} onSaved={onSaved} />
    </section>
  );
}

/** A radio group: one choice, each with its meaning spelled out next to it. */
function PrecisionControl({ name, value, path, onSaved }: { name: string; value: Precision | null; path: string; onSaved: () => void }) {
  const shell = useShell();
  const { t } = shell;
  const [outcome, setOutcome] = useState<{ message: string; error: boolean } | null>(null);
  // Shown at once; put back if the server refuses.
  const [selected, setSelected] = useState<Precision | null>(value);
  useEffect(() => setSelected(value), [value]);
  const change = async (precision: Precision | null) => {
    setSelected(precision);
    try {
      await api('PATCH', path, { locationPrecision: precision });
      setOutcome({ message: t('saved'), error: false });
      onSaved();
    } catch (e) {
      setSelected(value);
      setOutcome({ message: errorText(shell, e), error: true });
    }
  };
  return (
    <fieldset class="choice-group">
      <legend>{t('precisionLegend')}</legend>
      {/* A device may follow the account's setting (null); the account itself always has one. */}
      {[...(name === 'account' ? [] : [null]), ...PRECISIONS].map((p) => {
        const id = `precision-${name}-${p ?? 'account'}`;
        const key = p ?? 'account';
        return (
          <p key={key} class="radio">
            <input type="radio" id={id} name={`precision-${name}`} value={key} checked={selected === p} onChange={() => change(p)} aria-describedby={`${id}-help`} />
            <label for={id}>{t(`precision_${key}` as TextKey)}</label>
            <span id={`${id}-help`} class="help">
              {t(`precision_${key}_help` as TextKey)}
            </span>
          </p>
        );
      })}
      <Outcome message={outcome?.message ?? null} error={outcome?.error ?? false} />
    </fieldset>
  );
}

